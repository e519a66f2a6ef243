/*
 * Text from callers, made safe to print on a terminal. Reasons, causes, names and guard details come from other
 * services; printed raw, an ESC starts an escape sequence (recolour, move the cursor, retitle the window, rewrite
 * what is on screen), a CR or BS overwrites the line before it, and a bidi override shows text in another order
 * than it has. Every such character is shown as an escape instead: `\x1b`, `\r` as `\x0d`, U+202E as `\u202e`.
 */

/**
 * C0 controls (newline and tab included: a caller's text must not start a line of its own), DEL, C1 controls
 * (U+0080–U+009F; some terminals read U+009B as CSI), the line and paragraph separators, and the bidi embeddings,
 * overrides and isolates.
 */
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** What JSON.stringify leaves raw inside strings (it escapes C0 itself; the line breaks outside strings are its own). */
const UNSAFE_IN_JSON = /[\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

const hex = (code: number, width: number) => code.toString(16).padStart(width, '0');

/** `text` with every control character escaped (`\x1b`, `\x0d`, `\u202e`); everything else as it was. */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${hex(code, 2)}` : `\\u${hex(code, 4)}`;
  });
}

/**
 * `value` as indented JSON that is safe on a terminal and still parses to the same value. JSON.stringify escapes
 * C0 controls inside strings but leaves DEL, C1 and the bidi characters raw; those become `\u` escapes, which
 * can only occur inside strings, so the JSON stays valid.
 */
export function terminalJson(value: unknown): string {
  return String(JSON.stringify(value, null, 2)).replace(UNSAFE_IN_JSON, (c) => `\\u${hex(c.charCodeAt(0), 4)}`);
}

/** What a human reads where a value is absent (a run that never set it, a target that could not be read). */
export const ABSENT = '—';
