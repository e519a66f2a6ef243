/*
 * Colour for people at a terminal, never for pipes: on when the stream is a TTY, off with NO_COLOR (any non-empty
 * value, https://no-color.org) or TERM=dumb; FORCE_COLOR (non-empty, not "0") turns it on anywhere.
 */

export interface ColourEnv {
  NO_COLOR?: string | undefined;
  FORCE_COLOR?: string | undefined;
  TERM?: string | undefined;
}

/** Whether output to `stream` may carry colour. */
export function useColour(stream: { isTTY?: boolean }, env: ColourEnv = process.env): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '' && env.FORCE_COLOR !== '0') return true;
  return stream.isTTY === true && env.TERM !== 'dumb';
}

const GREEN = '\u001b[32m';
const RED = '\u001b[31m';
const YELLOW = '\u001b[33m';
const RESET = '\u001b[39m';

const WORDS: [RegExp, string][] = [
  [/\b(Completed|Successful)\b/g, GREEN],
  [/\b(RolledBack|Aborted|Failed|RollingBack)\b/g, RED],
  [/\b(AwaitingApproval|Paused|Inconclusive)\b/g, YELLOW],
];

/** A line with its phases and verdicts coloured: ended well green, badly red, waiting yellow. */
export function paint(line: string): string {
  let out = line;
  for (const [word, colour] of WORDS) out = out.replace(word, `${colour}$1${RESET}`);
  return out;
}
