import { describe, expect, it } from 'vitest';
import { paint, useColour } from '../../src/view/colour.js';

describe('colour only for people at a terminal', () => {
  it('is on for a TTY, off for a pipe, off with NO_COLOR or TERM=dumb, and FORCE_COLOR turns it on', () => {
    expect(useColour({ isTTY: true }, {})).toBe(true);
    expect(useColour({ isTTY: false }, {})).toBe(false);
    expect(useColour({}, {})).toBe(false);
    expect(useColour({ isTTY: true }, { NO_COLOR: '1' })).toBe(false);
    expect(useColour({ isTTY: true }, { NO_COLOR: '' })).toBe(true);
    expect(useColour({ isTTY: true }, { TERM: 'dumb' })).toBe(false);
    expect(useColour({ isTTY: false }, { FORCE_COLOR: '1' })).toBe(true);
    expect(useColour({ isTTY: false }, { FORCE_COLOR: '0' })).toBe(false);
    expect(useColour({ isTTY: true }, { NO_COLOR: 'x', FORCE_COLOR: '1' })).toBe(false);
  });
  it('colours phases and verdicts: ended well green, badly red, waiting yellow', () => {
    expect(paint('checkout · RolledBack · step 2/4')).toBe('checkout · \u001b[31mRolledBack\u001b[39m · step 2/4');
    expect(paint('errors  0.1 %  ≤ 5 %  Successful')).toBe('errors  0.1 %  ≤ 5 %  \u001b[32mSuccessful\u001b[39m');
    expect(paint('x AwaitingApproval y')).toBe('x \u001b[33mAwaitingApproval\u001b[39m y');
    expect(paint('no phase here')).toBe('no phase here');
  });
});
