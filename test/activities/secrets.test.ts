import { describe, expect, it } from 'vitest';
import { secretFromEnv } from '../../activities/secrets.js';

describe('secretFromEnv', () => {
  it('reads the named variable trimmed; unnamed, unset or blank is no secret', () => {
    const env = { TOKEN: '  abc\n', BLANK: '   ' };
    expect(secretFromEnv('TOKEN', env)).toBe('abc');
    expect(secretFromEnv(undefined, env)).toBeUndefined();
    expect(secretFromEnv('MISSING', env)).toBeUndefined();
    expect(secretFromEnv('BLANK', env)).toBeUndefined();
  });
});
