import { describe, expect, it } from 'vitest';
import { escapeControls, terminalJson } from '../../src/view/terminal-text.js';

describe('escapeControls', () => {
  it('shows C0, DEL, C1 and bidi controls as escapes, and leaves other text alone', () => {
    expect(escapeControls('\u001b[2J\u001b]0;pwned\u0007')).toBe('\\x1b[2J\\x1b]0;pwned\\x07');
    expect(escapeControls('ok\rFAKE\nline\ttab\u0008')).toBe('ok\\x0dFAKE\\x0aline\\x09tab\\x08');
    expect(escapeControls('\u007f\u0080\u009b31m')).toBe('\\x7f\\x80\\x9b31m');
    expect(escapeControls('abc\u202edcba\u2066\u2028')).toBe('abc\\u202edcba\\u2066\\u2028');
    expect(escapeControls('plain — ünïcödé ✔ 😀 [█░]')).toBe('plain — ünïcödé ✔ 😀 [█░]');
  });
});

describe('terminalJson', () => {
  it('escapes what JSON.stringify leaves raw, and still parses to the same value', () => {
    const value = { reason: 'a\u001b[31mb\u009bc\u202ed\u007f', n: 1 };
    const text = terminalJson(value);
    // eslint-disable-next-line no-control-regex -- asserting that no control character is left
    expect(text).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e]/);
    expect(JSON.parse(text)).toEqual(value);
  });
});
