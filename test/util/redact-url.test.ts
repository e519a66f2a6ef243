import { describe, expect, it } from 'vitest';
import { redactUrl } from '../../src/util/redact-url.js';

describe('redactUrl', () => {
  it.each([
    ['http://user:pw@host/x', 'http://***@host/x'],
    ['https://token@host:8443/a?b=c#d', 'https://***@host:8443/a?b=c#d'],
    ['http://a@b:c@host/', 'http://***@host/'],
    ['http://host/users/@me', 'http://host/users/@me'],
    ['http://host?x=a@b', 'http://host?x=a@b'],
    ['mail ana@example.com', 'mail ana@example.com'],
    [
      'Request cannot be constructed from a URL that includes credentials: http://u:p@h/x (then https://k@h2/)',
      'Request cannot be constructed from a URL that includes credentials: http://***@h/x (then https://***@h2/)',
    ],
  ])('%s → %s', (input, expected) => expect(redactUrl(input)).toBe(expected));
});
