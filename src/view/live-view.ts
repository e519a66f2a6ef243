import { createLogUpdate } from 'log-update';

/** Where a live view draws: a process stream, or anything shaped like one (tests pass a fake terminal). */
export interface ViewStream {
  write(chunk: string): unknown;
  isTTY?: boolean;
  /** Terminal width; 0 or missing when the terminal does not say. */
  columns?: number;
  /** Terminal height; 0 or missing when the terminal does not say. */
  rows?: number;
}

/** Where the live view draws: a TTY is redrawn in place, anything else gets one plain line per change. */
export interface LiveView {
  /** Shows a frame; `summary` is the one-line form written (when it changed) to a non-TTY. */
  frame(lines: string[], summary: string): void;
  /** A one-off message: a line of its own, kept above the redrawn frame on a TTY. */
  note(text: string): void;
}

/**
 * A live view on `out`; `tty` defaults to whether `out` is a terminal. Shared by `rollout watch` and the demo.
 *
 * On a TTY, frames go through log-update, which wraps each frame at the terminal's width before it counts what
 * to erase: a line longer than the terminal takes several screen rows, and erasing only as many rows as the
 * frame has lines would leave stale copies of the wrapped part behind.
 */
export function createLiveView(out: ViewStream, tty = out.isTTY === true): LiveView {
  let lastSummary = '';
  let lastFrame: string[] = [];
  // the cursor stays visible: hiding it makes log-update hook process exit and signals to show it again, and the
  // demo handles those signals itself
  const screen = tty ? createLogUpdate(measured(out), { showCursor: true }) : undefined;
  return {
    frame(lines, summary) {
      lastFrame = lines;
      if (screen) screen(lines.join('\n'));
      else if (summary !== lastSummary) out.write(`${new Date().toISOString()} ${summary}\n`);
      lastSummary = summary;
    },
    note(text) {
      if (!screen) {
        out.write(`${new Date().toISOString()} ${text}\n`);
        return;
      }
      // the note takes the frame's place, then the frame is drawn again below it
      screen.persist(text);
      if (lastFrame.length) screen(lastFrame.join('\n'));
    },
  };
}

/**
 * `out` with a width and height log-update can use. A pseudo-terminal nobody sized (`script` without a terminal
 * of its own, some CI runners) reports 0 × 0: log-update would then draw nothing at all, so the width falls back to
 * `COLUMNS` or 80 (what a terminal of unknown size most likely is), and an unknown height clips nothing.
 */
function measured(out: ViewStream): NodeJS.WritableStream {
  const sized = {
    write: (chunk: string) => out.write(chunk),
    get isTTY() {
      return out.isTTY;
    },
    get columns() {
      return out.columns || Number(process.env.COLUMNS) || 80;
    },
    get rows() {
      return out.rows || Number.POSITIVE_INFINITY;
    },
  };
  // log-update reads only write, isTTY, columns and rows
  return sized as unknown as NodeJS.WritableStream;
}
