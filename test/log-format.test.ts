import { describe, expect, it } from 'vitest';
import { logFormat, prettyLine } from '../src/log-format.js';
import { createLogger } from '../src/logger.js';

/** An SGR colour sequence (ESC [ n m). */
const COLOUR = new RegExp(`${String.fromCharCode(27)}\\[\\d+m`, 'g');

/** A stand-in for stderr: collects what is written; a terminal or not. */
const sink = (isTTY: boolean) => {
  const lines: string[] = [];
  return { isTTY, lines, write: (text: string) => lines.push(text) };
};

describe('logs: pretty on a terminal, JSON anywhere else', () => {
  it('chooses by the stream, and LOG_FORMAT overrides', () => {
    expect(logFormat({ isTTY: true }, {})).toBe('pretty');
    expect(logFormat({ isTTY: false }, {})).toBe('json');
    expect(logFormat({}, {})).toBe('json');
    expect(logFormat({ isTTY: true }, { LOG_FORMAT: 'json' })).toBe('json');
    expect(logFormat({ isTTY: false }, { LOG_FORMAT: 'pretty' })).toBe('pretty');
  });

  it('a logger on a terminal writes one readable line per record, redacted, with fields and the stack', () => {
    const tty = sink(true);
    const log = createLogger({
      level: 'info',
      stream: tty,
      redactor: { redact: (l) => l.replaceAll('s3cret', '[redacted]') },
    });
    log.info({ taskQueue: 'rollouts', note: 'two words', token: 's3cret' }, 'worker started');
    log.warn({ err: new Error('boom\u001b[2J') }, 'rollback retrying');
    expect(tty.lines).toHaveLength(2);
    // colour, when the test runner forces it, is not what this asserts
    const plain = tty.lines.map((l) => l.replace(COLOUR, ''));
    expect(plain[0]).toMatch(
      /^\d\d:\d\d:\d\d\.\d{3} INFO {2}worker started taskQueue=rollouts note="two words" token=\[redacted\]\n$/,
    );
    expect(plain[1]).toMatch(/WARN/);
    expect(plain[1]).toContain('rollback retrying');
    expect(plain[1]).toContain('Error: boom\\x1b[2J');
    expect(plain[1]).toMatch(/\n\s+at /);
  });

  it('a logger on a pipe writes JSON, one object per line', () => {
    const pipe = sink(false);
    createLogger({ level: 'info', stream: pipe }).info({ step: 2 }, 'hello');
    const record = JSON.parse(pipe.lines.join('')) as Record<string, unknown>;
    expect(record).toMatchObject({ level: 30, msg: 'hello', step: 2, name: 'rollout' });
  });

  it('passes a line that is not JSON through unchanged', () => {
    expect(prettyLine('plain text')).toBe('plain text');
  });
});
