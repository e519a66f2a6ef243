import { randomUUID } from 'node:crypto';
import { open, readFile, realpath, rename, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import {
  Cohort,
  Percent,
  sameExposure,
  type Exposure,
  type ExposureReading,
} from '../../../src/domain/exposure.schema.js';
import type { FlagdTargetSpec } from '../../../src/domain/target-spec.schema.js';
import { TargetError, type ExposureTarget } from '../port.js';

/**
 * flagd-core 4.0.1 `fractional`: weights must be integers, their sum must fit an int32, and a key lands in
 * bucket `(murmur3_32(flagKey + targetingKey) * totalWeight) >> 32`. A key gets the first entry iff
 * `hash < w1 / total * 2^32`, so only the ratio matters and raising it only adds keys (sticky).
 * We split 1e9 units: one unit is 1e-7 of a percentage point, finer than any rollout step, and the hash
 * (2^32 values, ~2.3e-8 points each) is the real limit, not our weights.
 */
const TOTAL_UNITS = 1_000_000_000;
const UNITS_PER_PERCENT = TOTAL_UNITS / 100;
const SCHEMA_URL = 'https://flagd.dev/schema/v0/flags.json';
/** flagd metadata values must be string, number or boolean, hence the cohort as a JSON string. */
const META = { percent: 'rolloutPercent', cohort: 'rolloutCohort', lastKey: 'rolloutLastKey' } as const;

type JsonObject = Record<string, unknown>;
const FlagFile = z.looseObject({ flags: z.record(z.string(), z.unknown()) });
const FlagDefinition = z.looseObject({
  state: z.enum(['ENABLED', 'DISABLED']),
  variants: z
    .record(z.string(), z.unknown())
    .refine((v) => Object.keys(v).length > 0, 'must list at least one variant'),
  defaultVariant: z.string().nullable().optional(),
  targeting: z.record(z.string(), z.unknown()).optional(),
  metadata: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])).optional(),
});
type FlagDefinition = z.infer<typeof FlagDefinition>;

interface LoadedFile {
  doc: JsonObject;
  flags: JsonObject;
  indent: string | number;
  mode: number;
}

/**
 * A flag in an OpenFeature flagd flag-definition file (JSON). Only `spec.flag` is rewritten; every other flag and
 * top-level key is kept. Writes are atomic (temp file + fsync + rename) and serialized per file within the process.
 */
export function createFlagdFileTarget(spec: FlagdTargetSpec, opts: { baseDir?: string } = {}): ExposureTarget {
  const file = path.resolve(opts.baseDir ?? process.cwd(), spec.path);
  return {
    describe: `flagd:${spec.path}#${spec.flag}`,
    async read() {
      const loaded = await loadFile(file);
      const raw = loaded?.flags[spec.flag];
      return raw === undefined ? { percent: 0 } : readingOf(spec, parseFlag(file, spec, raw));
    },
    apply(change) {
      return serialized(file, async () => {
        const loaded = await loadFile(file);
        const raw = loaded?.flags[spec.flag];
        const existing = raw === undefined ? undefined : parseFlag(file, spec, raw);
        const flag = buildFlag(file, spec, raw as JsonObject | undefined, existing, change);
        // An unchanged flag is not rewritten: a retried apply should not make flagd reload the file.
        if (JSON.stringify(flag) !== JSON.stringify(raw)) {
          const doc = loaded
            ? { ...loaded.doc, flags: { ...loaded.flags, [spec.flag]: flag } }
            : { $schema: SCHEMA_URL, flags: { [spec.flag]: flag } };
          await writeAtomically(file, `${JSON.stringify(doc, null, loaded?.indent ?? 2)}\n`, loaded?.mode);
        }
        return readingOf(spec, parseFlag(file, spec, flag));
      });
    },
  };
}

/** The targeting that serves `exposure`; the rolled-out variant is listed first so its bucket range grows in place. */
function targetingFor(spec: FlagdTargetSpec, exposure: Exposure): { defaultVariant: string; targeting: JsonObject } {
  const units = toUnits(exposure.percent);
  const { variant, baselineVariant } = spec;
  if (units === 0) return { defaultVariant: baselineVariant, targeting: {} };
  if (units === TOTAL_UNITS && !exposure.cohort) return { defaultVariant: variant, targeting: {} };
  const split: unknown =
    units === TOTAL_UNITS
      ? variant
      : {
          fractional: [
            [variant, units],
            [baselineVariant, TOTAL_UNITS - units],
          ],
        };
  if (!exposure.cohort) return { defaultVariant: baselineVariant, targeting: split as JsonObject };
  const { attribute, values } = exposure.cohort;
  return {
    defaultVariant: baselineVariant,
    targeting: { if: [{ in: [{ var: attribute }, [...values]] }, split, baselineVariant] },
  };
}

function toUnits(percent: number): number {
  const units = Math.round(percent * UNITS_PER_PERCENT);
  // Never round a non-zero exposure to nobody, nor a partial one to everybody.
  if (percent > 0 && units === 0) return 1;
  if (percent < 100 && units === TOTAL_UNITS) return TOTAL_UNITS - 1;
  return units;
}

function buildFlag(
  file: string,
  spec: FlagdTargetSpec,
  raw: JsonObject | undefined,
  existing: FlagDefinition | undefined,
  change: { percent: number; cohort?: Cohort | undefined; idempotencyKey: string },
): JsonObject {
  const variants = existing?.variants ?? initialVariants(spec.variant, spec.baselineVariant);
  for (const name of [spec.variant, spec.baselineVariant]) {
    if (!Object.hasOwn(variants, name)) {
      throw new TargetError(
        `flag "${spec.flag}" in ${file} has no variant "${name}" (it has: ${Object.keys(variants).join(', ')}); ` +
          'add the variant to the file or fix the target spec',
        'CONFIG',
        false,
      );
    }
  }
  const metadata: JsonObject = {
    ...existing?.metadata,
    [META.percent]: change.percent,
    [META.lastKey]: change.idempotencyKey,
  };
  if (change.cohort) metadata[META.cohort] = JSON.stringify(change.cohort);
  else delete metadata[META.cohort];
  const exposure: Exposure = change.cohort
    ? { percent: change.percent, cohort: change.cohort }
    : { percent: change.percent };
  // Spreading `raw` first keeps unknown keys and the original key order; a human's DISABLED state is respected.
  return { ...raw, state: existing?.state ?? 'ENABLED', variants, ...targetingFor(spec, exposure), metadata };
}

const TRUTHY = new Set(['on', 'true', 'enabled']);
const FALSY = new Set(['off', 'false', 'disabled']);
const isBooleanish = (name: string) => TRUTHY.has(name.toLowerCase()) || FALSY.has(name.toLowerCase());

/** Boolean values for on/off-style names so apps can use getBooleanValue; otherwise each variant's value is its name. */
function initialVariants(variant: string, baseline: string): JsonObject {
  const booleans =
    isBooleanish(variant) &&
    isBooleanish(baseline) &&
    TRUTHY.has(variant.toLowerCase()) !== TRUTHY.has(baseline.toLowerCase());
  return booleans
    ? { [variant]: TRUTHY.has(variant.toLowerCase()), [baseline]: TRUTHY.has(baseline.toLowerCase()) }
    : { [variant]: variant, [baseline]: baseline };
}

/** What the flag serves: the targeting is the truth; metadata adds the exact percent, cohort and lastKey when it agrees. */
function readingOf(spec: FlagdTargetSpec, flag: FlagDefinition): ExposureReading {
  const derived = deriveExposure(spec, flag);
  if (!derived) {
    throw new TargetError(
      `flag "${spec.flag}" in ${spec.path} has targeting this tool did not write and cannot interpret ` +
        `(${JSON.stringify(flag.targeting).slice(0, 200)}); apply an exposure to take it over, or fix the file`,
      'UNPARSABLE',
      false,
    );
  }
  const meta = metadataReading(flag.metadata);
  const agrees =
    meta !== undefined &&
    Math.abs(meta.percent - derived.percent) <= 1 / UNITS_PER_PERCENT &&
    (derived.percent === 0 || sameExposure({ ...derived, percent: 0 }, { ...meta, percent: 0 }));
  if (!agrees) return derived;
  const { lastKey, ...exposure } = meta;
  return lastKey === undefined ? exposure : { ...exposure, lastKey };
}

function deriveExposure(spec: FlagdTargetSpec, flag: FlagDefinition): Exposure | undefined {
  const t = flag.targeting;
  if (!t || Object.keys(t).length === 0) return { percent: flag.defaultVariant === spec.variant ? 100 : 0 };
  const rule = t['if'];
  if (Array.isArray(rule) && rule.length === 3 && splitPercent(spec, rule[2]) === 0) {
    const cohort = Cohort.safeParse(cohortOf(rule[0]));
    const percent = splitPercent(spec, rule[1]);
    return cohort.success && percent !== undefined ? { percent, cohort: cohort.data } : undefined;
  }
  const percent = splitPercent(spec, t);
  return percent === undefined ? undefined : { percent };
}

/** `{ in: [{ var: attribute }, values] }` → a cohort candidate. */
function cohortOf(condition: unknown): unknown {
  const args = isObject(condition) ? condition['in'] : undefined;
  if (!Array.isArray(args) || args.length !== 2 || !isObject(args[0])) return undefined;
  return { attribute: args[0]['var'], values: args[1] };
}

function splitPercent(spec: FlagdTargetSpec, node: unknown): number | undefined {
  if (node === spec.variant) return 100;
  if (node === spec.baselineVariant) return 0;
  const entries = isObject(node) && Object.keys(node).length === 1 ? node['fractional'] : undefined;
  if (!Array.isArray(entries)) return undefined;
  let mine = 0;
  let total = 0;
  for (const entry of typeof entries[0] === 'string' ? entries.slice(1) : entries) {
    if (!Array.isArray(entry) || entry.length < 1 || entry.length > 2) return undefined;
    const weight: unknown = entry.length === 2 ? entry[1] : 1;
    if (typeof weight !== 'number' || !Number.isInteger(weight)) return undefined;
    total += Math.max(0, weight);
    if (entry[0] === spec.variant) mine += Math.max(0, weight);
  }
  // mine * 100 / total (not mine / total * 100) keeps 5e6 / 1e9 an exact 0.5.
  return total > 0 ? (mine * 100) / total : undefined;
}

function metadataReading(metadata: FlagDefinition['metadata']): ExposureReading | undefined {
  const percent = Percent.safeParse(metadata?.[META.percent]);
  if (!percent.success) return undefined;
  const lastKey = metadata?.[META.lastKey];
  const reading: ExposureReading =
    typeof lastKey === 'string' ? { percent: percent.data, lastKey } : { percent: percent.data };
  const rawCohort = metadata?.[META.cohort];
  if (rawCohort === undefined) return reading;
  try {
    const cohort = Cohort.safeParse(JSON.parse(String(rawCohort)));
    return cohort.success ? { ...reading, cohort: cohort.data } : undefined;
  } catch {
    return undefined;
  }
}

function parseFlag(file: string, spec: FlagdTargetSpec, raw: unknown): FlagDefinition {
  const flag = FlagDefinition.safeParse(raw);
  if (flag.success) return flag.data;
  throw unparsable(file, `flag "${spec.flag}" is not a flagd flag definition: ${z.prettifyError(flag.error)}`);
}

/** The file's JSON, or undefined when it does not exist yet (its directory must). Never repairs a broken file. */
async function loadFile(file: string): Promise<LoadedFile | undefined> {
  let text: string;
  let mode: number;
  try {
    text = await readFile(file, 'utf8');
    mode = (await stat(file)).mode & 0o777;
  } catch (err) {
    if (errnoOf(err) !== 'ENOENT' && errnoOf(err) !== 'ENOTDIR') throw fsError(err, file, 'read');
    await requireDirectory(path.dirname(file));
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw unparsable(file, `not valid JSON: ${(err as Error).message}`);
  }
  const doc = FlagFile.safeParse(json);
  if (!doc.success) throw unparsable(file, `not a flagd flag definition: ${z.prettifyError(doc.error)}`);
  // Keep the author's indentation so a diff of the file shows only the flag that changed.
  const indent = /\n([ \t]+)"/.exec(text)?.[1] ?? 2;
  // The raw object, not zod's copy: its key order is the author's.
  const raw = json as JsonObject;
  return { doc: raw, flags: raw['flags'] as JsonObject, indent, mode };
}

async function requireDirectory(dir: string): Promise<void> {
  const isDir = await stat(dir).then(
    (s) => s.isDirectory(),
    (err: unknown) => {
      if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') return false;
      throw fsError(err, dir, 'inspect');
    },
  );
  if (!isDir) {
    throw new TargetError(
      `directory ${dir} does not exist; create it (mkdir -p ${dir}) or fix the flag file path`,
      'NOT_FOUND',
      true,
    );
  }
}

/** Temp file in the same directory (so rename is atomic), fsync, rename over the target: readers never see half a file. */
async function writeAtomically(file: string, text: string, mode: number | undefined): Promise<void> {
  // Write through a symlink (e.g. a mounted config) instead of replacing the link with a plain file.
  const target = await realpath(file).catch(() => file);
  const dir = path.dirname(target);
  const tmp = path.join(dir, `.${path.basename(target)}.${process.pid}.${randomUUID()}.tmp`);
  try {
    const handle = await open(tmp, 'wx', mode ?? 0o644);
    try {
      if (mode !== undefined) await handle.chmod(mode);
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, target);
  } catch (err) {
    await rm(tmp, { force: true }).catch(() => undefined);
    if (errnoOf(err) === 'ENOENT' || errnoOf(err) === 'ENOTDIR') await requireDirectory(dir);
    throw fsError(err, target, 'write');
  }
  // Persist the rename itself; best effort because some filesystems refuse to fsync a directory.
  const dirHandle = await open(dir, 'r').catch(() => undefined);
  await dirHandle?.sync().catch(() => undefined);
  await dirHandle?.close();
}

const queues = new Map<string, Promise<unknown>>();

/** Runs `fn` after every earlier call for the same file: read-modify-write of two flags must not interleave. */
async function serialized<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const run = (queues.get(key) ?? Promise.resolve()).then(fn);
  const tail = run.catch(() => undefined);
  queues.set(key, tail);
  try {
    return await run;
  } finally {
    if (queues.get(key) === tail) queues.delete(key);
  }
}

const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const errnoOf = (err: unknown): string | undefined => (err as NodeJS.ErrnoException | undefined)?.code;

function unparsable(file: string, problem: string): TargetError {
  return new TargetError(
    `flag file ${file}: ${problem}; fix or remove it (it was left untouched)`,
    'UNPARSABLE',
    false,
  );
}

function fsError(err: unknown, file: string, action: string): TargetError {
  if (err instanceof TargetError) return err;
  const code = errnoOf(err) ?? 'unknown error';
  const detail = `cannot ${action} ${file} (${code})`;
  switch (code) {
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
      return new TargetError(`${detail}: permission denied or read-only filesystem`, 'UNAVAILABLE', true, {
        cause: err,
      });
    case 'EISDIR':
      return new TargetError(`${detail}: it is a directory, expected a flagd JSON file`, 'CONFIG', false, {
        cause: err,
      });
    default:
      return new TargetError(`${detail}: ${(err as Error).message}`, 'UNAVAILABLE', true, { cause: err });
  }
}
