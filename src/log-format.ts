import { paint, useColour } from './view/colour.js';
import { escapeControls } from './view/terminal-text.js';

/** pino's numeric levels, as a person reads them. */
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Fields every line has, or that the pretty form shows in its own place. */
const OMIT = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'name']);

/** What a log line is written to: stderr, or a test's stand-in. */
export interface LogStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** `LOG_FORMAT` (`json` or `pretty`), else pretty on a terminal and JSON anywhere else (files, pipes, collectors). */
export function logFormat(stream: { isTTY?: boolean }, env: NodeJS.ProcessEnv = process.env): 'json' | 'pretty' {
  if (env.LOG_FORMAT === 'json' || env.LOG_FORMAT === 'pretty') return env.LOG_FORMAT;
  return stream.isTTY === true ? 'pretty' : 'json';
}

const value = (v: unknown): string => {
  if (typeof v === 'string') return /[\s="]/.test(v) || v === '' ? JSON.stringify(v) : v;
  return JSON.stringify(v) ?? String(v);
};

/**
 * One JSON log line as a person reads it: `06:16:22.123 INFO  worker started taskQueue=rollouts`, error stacks
 * on their own lines, control characters from callers escaped; a line that is not JSON passes as it is.
 */
export function prettyLine(line: string, colour = false): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '';
  const level = (LEVELS[record.level as number] ?? String(record.level)).padEnd(5);
  const fields = Object.entries(record)
    .filter(([k]) => !OMIT.has(k) && k !== 'err' && k !== 'error')
    .map(([k, v]) => `${k}=${value(v)}`);
  const failure = (record.err ?? record.error) as { message?: string; stack?: string } | undefined;
  const head = escapeControls([time, level, String(record.msg ?? ''), ...fields].filter(Boolean).join(' '));
  const shown = colour ? paintLevel(head, level.trim()) : head;
  const stack = failure?.stack ?? failure?.message;
  // the stack's own line breaks stay line breaks; anything else it holds is escaped
  return stack
    ? `${shown}\n${stack
        .split('\n')
        .map((l) => `  ${escapeControls(l)}`)
        .join('\n')}`
    : shown;
}

function paintLevel(line: string, level: string): string {
  const code = level === 'WARN' ? 33 : level === 'ERROR' || level === 'FATAL' ? 31 : 0;
  return code ? line.replace(level, `\u001b[${code}m${level}\u001b[39m`) : paint(line);
}

/** A pino destination writing pretty lines to `stream` (colour when it may carry colour). */
export function prettyDestination(stream: LogStream): { write(line: string): void } {
  const colour = useColour(stream);
  return {
    write(line: string) {
      for (const one of line.split('\n')) if (one.trim()) stream.write(`${prettyLine(one, colour)}\n`);
    },
  };
}
