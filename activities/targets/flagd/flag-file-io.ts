import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { access, open, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { TargetError } from '../port.js';
import type { ConfinedFile } from './confined-path.js';

/** A JSON object from (or for) a flag file. Always null-prototype, so no key reaches or shadows Object.prototype. */
export type JsonObject = Record<string, unknown>;

const FlagFile = z.looseObject({ flags: z.record(z.string(), z.unknown()) });

/** One flag in OpenFeature's flagd format, as far as this target depends on it. */
export const FlagDefinition = z.looseObject({
  state: z.enum(['ENABLED', 'DISABLED']),
  variants: z
    .record(z.string(), z.unknown())
    .refine((v) => Object.keys(v).length > 0, 'must list at least one variant'),
  defaultVariant: z.string().nullable().optional(),
  targeting: z.record(z.string(), z.unknown()).optional(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
export type FlagDefinition = z.infer<typeof FlagDefinition>;
const FLAG_FIELDS = Object.keys(FlagDefinition.shape);

/** A flag file as read, with what a rewrite must keep: the author's indentation and the file mode. */
export interface LoadedFlagFile {
  doc: JsonObject;
  flags: JsonObject;
  indent: string | number;
  mode: number;
}

/**
 * A new null-prototype object with the sources' own keys, in order. On such an object `Object.assign` defines even
 * `__proto__` as a plain key, so a flag file round-trips whatever its keys are.
 */
export function jsonObject(...sources: (JsonObject | undefined)[]): JsonObject {
  return Object.assign(Object.create(null) as JsonObject, ...sources);
}

/** `obj[key]` when `obj` holds `key` itself, never what its prototype would answer. */
export const own = (obj: JsonObject, key: string): unknown => (Object.hasOwn(obj, key) ? obj[key] : undefined);

export const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The file's JSON, or undefined when it does not exist yet (its directory must). Never repairs a broken file. */
export async function loadFlagFile(file: ConfinedFile): Promise<LoadedFlagFile | undefined> {
  let text: string;
  let mode: number;
  try {
    // `real` has its symlinks resolved; a symlink there now appeared after the check, and is not followed.
    const handle = await open(file.real, constants.O_RDONLY | constants.O_NOFOLLOW);
    try {
      text = await handle.readFile('utf8');
      mode = (await handle.stat()).mode & 0o777;
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT' && errnoOf(err) !== 'ENOTDIR') throw fsError(err, file.shown, 'read');
    await requireDirectory(file);
    return undefined;
  }
  let json: unknown;
  try {
    // Every object null-prototype as it is built: keys such as `__proto__` or `toString` stay plain data.
    json = JSON.parse(text, (_key, value: unknown) => (isObject(value) ? jsonObject(value) : value));
  } catch {
    // JSON.parse's message quotes the text it choked on, which may be anything the file holds.
    throw unparsable(file.shown, 'is not valid JSON');
  }
  const doc = FlagFile.safeParse(json);
  if (!doc.success)
    throw unparsable(file.shown, `is not a flagd flag definition file (${shapeProblems(doc.error, ['flags'])})`);
  // Keep the author's indentation so a diff of the file shows only the flag that changed.
  const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? 2;
  // The parsed objects, not zod's copies: their key order is the author's, and zod drops a `__proto__` key.
  const raw = json as JsonObject;
  return { doc: raw, flags: raw['flags'] as JsonObject, indent, mode };
}

/** `raw` checked against the flagd flag format; returned as it is (see {@link loadFlagFile} for why not zod's copy). */
export function parseFlag(file: ConfinedFile, flag: string, raw: unknown): FlagDefinition {
  const checked = FlagDefinition.safeParse(raw);
  if (checked.success) return raw as FlagDefinition;
  throw unparsable(
    file.shown,
    `has a flag "${flag}" that is not a flagd flag definition (${shapeProblems(checked.error, FLAG_FIELDS)})`,
  );
}

/**
 * Zod's complaints, named by the schema's own field names only: a file's keys and values are never echoed, since a
 * spec's author may not be allowed to read the file.
 */
function shapeProblems(error: z.ZodError, fields: readonly string[]): string {
  const lines = error.issues.map((issue) => {
    const head = issue.path[0];
    return typeof head === 'string' && fields.includes(head) ? `${head}: ${issue.message}` : issue.message;
  });
  return [...new Set(lines)].join('; ');
}

async function requireDirectory(file: ConfinedFile): Promise<void> {
  const dir = path.dirname(file.real);
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    (err: unknown) => {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return false;
      throw fsError(err, path.dirname(file.shown), 'inspect');
    },
  );
  if (!isDir) {
    throw new TargetError(
      `directory ${path.dirname(file.shown)} does not exist under the base directory; create it or fix the flag file path`,
      'NOT_FOUND',
      true,
    );
  }
}

/**
 * Proves, writing nothing, that the file could be written now: its directory exists, and the directory (where the
 * temp file is made) and an existing file are writable by this process.
 */
export async function checkWritable(file: ConfinedFile): Promise<void> {
  await requireDirectory(file);
  const dir = path.dirname(file.real);
  for (const [what, where, shown] of [
    ['directory', dir, path.dirname(file.shown)],
    ['file', file.real, file.shown],
  ] as const) {
    const problem = await access(where, constants.W_OK).then(
      () => undefined,
      (err: unknown) => errnoOf(err),
    );
    if (problem === undefined || (problem === 'ENOENT' && what === 'file')) continue;
    throw new TargetError(`${what} ${shown} is not writable by the worker (${problem})`, 'CONFIG', true);
  }
}

/** Temp file in the same directory (so rename is atomic), fsync, rename over the target: readers never see half a file. */
export async function writeFlagFile(file: ConfinedFile, text: string, mode: number | undefined): Promise<void> {
  // `real` is the resolved path: a mounted config behind a symlink is written in place, the link is kept.
  const dir = path.dirname(file.real);
  const tmp = path.join(dir, `.${path.basename(file.real)}.${process.pid}.${randomUUID()}.tmp`);
  try {
    const handle = await open(tmp, 'wx', mode ?? 0o644);
    try {
      if (mode !== undefined) await handle.chmod(mode);
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, file.real);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') await requireDirectory(file);
    throw fsError(err, file.shown, 'write');
  }
  // Persist the rename itself; best effort because some filesystems refuse to fsync a directory.
  const dirHandle = await open(dir, 'r').catch(() => undefined);
  await dirHandle?.sync().catch(() => undefined);
  await dirHandle?.close();
}

const queues = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier call for the same file: read-modify-write of two flags must not interleave. */
export async function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(key) ?? Promise.resolve()).then(fn);
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  try {
    return await run;
  } finally {
    if (queues.get(key) === tail) queues.delete(key);
  }
}

const errnoOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

function unparsable(shown: string, problem: string): TargetError {
  return new TargetError(
    `flag file ${shown} ${problem}; fix or remove it (it was left untouched)`,
    'UNPARSABLE',
    false,
  );
}

/**
 * The errno code and what it means, not Node's message (nor the error as `cause`): that carries the absolute path,
 * and these messages end up in workflow history.
 */
function fsError(err: unknown, shown: string, action: string): TargetError {
  if (err instanceof TargetError) return err;
  const code = errnoOf(err) ?? 'unknown error';
  const detail = `cannot ${action} ${shown} (${code})`;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new TargetError(`${detail}: permission denied or read-only filesystem`, 'UNAVAILABLE', true);
    case 'EISDIR':
      return new TargetError(`${detail}: it is a directory, expected a flagd JSON file`, 'CONFIG', false);
    default:
      return new TargetError(detail, 'UNAVAILABLE', true);
  }
}
