/** Where the live view draws: a TTY is redrawn in place, anything else gets one plain line per change. */
export interface LiveView {
  /** Shows a frame; `summary` is the one-line form written (when it changed) to a non-TTY. */
  frame(lines: string[], summary: string): void;
  /** A one-off message: a line of its own, kept above the redrawn frame on a TTY. */
  note(text: string): void;
}

/** A live view on `out`; `tty` defaults to whether `out` is a terminal. */
export function createLiveView(out: NodeJS.WriteStream, tty = out.isTTY === true): LiveView {
  let drawn = 0;
  let lastSummary = '';
  let lastFrame: string[] = [];
  const redraw = (lines: string[]) => {
    // move up over the previous frame and clear to the end of the screen, as `rollout watch` does
    out.write(`${drawn ? `\x1b[${drawn}A` : ''}\x1b[0J${lines.join('\n')}\n`);
    drawn = lines.length;
  };
  return {
    frame(lines, summary) {
      lastFrame = lines;
      if (tty) redraw(lines);
      else if (summary !== lastSummary) out.write(`${new Date().toISOString()} ${summary}\n`);
      lastSummary = summary;
    },
    note(text) {
      if (!tty) {
        out.write(`${new Date().toISOString()} ${text}\n`);
        return;
      }
      // the note takes the frame's place, then the frame is drawn again below it
      out.write(`${drawn ? `\x1b[${drawn}A` : ''}\x1b[0J${text}\n`);
      drawn = 0;
      if (lastFrame.length) redraw(lastFrame);
    },
  };
}

/** What a key press asks for. */
export type DemoKey = 'toggle-fault' | 'quit' | 'restart';

const KEYS: Record<string, DemoKey> = { f: 'toggle-fault', F: 'toggle-fault', q: 'quit', Q: 'quit', '\x03': 'quit', r: 'restart', R: 'restart' };

/**
 * Reads single key presses from a TTY stdin in raw mode (so Ctrl-C arrives as a key, `\x03`, and quits the same
 * way). Does nothing when stdin is not a TTY (CI, pipes): the demo never waits for a key. Returns a function that
 * restores the terminal and lets go of stdin, so it no longer holds the process open.
 */
export function listenForKeys(stdin: NodeJS.ReadStream, onKey: (key: DemoKey) => void): () => void {
  if (!stdin.isTTY) return () => {};
  const onData = (chunk: Buffer) => {
    for (const char of chunk.toString('utf8')) {
      const key = KEYS[char];
      if (key) onKey(key);
    }
  };
  stdin.setRawMode(true);
  stdin.on('data', onData);
  stdin.resume();
  return () => {
    stdin.off('data', onData);
    try {
      stdin.setRawMode(false);
    } catch {
      // the terminal is already gone (hang-up): nothing left to restore
    }
    stdin.pause();
  };
}
