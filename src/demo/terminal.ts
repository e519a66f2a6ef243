/** What a key press asks for. */
export type DemoKey = 'toggle-fault' | 'quit' | 'restart';

const KEYS: Record<string, DemoKey> = {
  f: 'toggle-fault',
  F: 'toggle-fault',
  q: 'quit',
  Q: 'quit',
  '\x03': 'quit',
  r: 'restart',
  R: 'restart',
};

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
