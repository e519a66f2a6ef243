import path from 'node:path';
import type { Cohort, Exposure, ExposureReading } from '../../../src/domain/exposure.schema.js';
import { FlagdTargetSpec } from '../../../src/domain/target-spec.schema.js';
import { TargetError, type ExposureTarget } from '../port.js';
import { confine, type ConfinedFile } from './confined-path.js';
import {
  checkWritable,
  isObject,
  jsonObject,
  loadFlagFile,
  own,
  parseFlag,
  serialized,
  writeFlagFile,
  type FlagDefinition,
  type JsonObject,
} from './flag-file-io.js';
import { META, readingOf, targetingFor } from './fractional-targeting.js';

const SCHEMA_URL = 'https://flagd.dev/schema/v0/flags.json';

/**
 * A flag in an OpenFeature flagd flag-definition file (JSON) under `baseDir` (default: the working directory), which
 * it never leaves. Only `spec.flag` is rewritten; every other flag and top-level key is kept. Writes are atomic
 * (temp file + fsync + rename) and serialized per file within the process.
 */
export function createFlagdFileTarget(spec: FlagdTargetSpec, opts: { baseDir?: string } = {}): ExposureTarget {
  const root = opts.baseDir ?? process.cwd();
  // The spec is checked again here, not only at the edge: a worker must not trust that every caller validated.
  const locate = async (): Promise<ConfinedFile> => confine(root, checked(spec).path);
  return {
    describe: `flagd:${spec.path}#${spec.flag}`,
    async writable() {
      await checkWritable(await locate());
    },
    async check() {
      const file = await locate();
      const raw = own((await loadFlagFile(file))?.flags ?? {}, spec.flag);
      if (raw !== undefined) checkVariants(spec, file, parseFlag(file, spec.flag, raw), { percent: 100 });
    },
    shadow: true,
    async read() {
      const file = await locate();
      const flags = (await loadFlagFile(file))?.flags ?? {};
      const raw = own(flags, spec.flag);
      const live = raw === undefined ? { percent: 0 } : readingOf(spec, file.shown, parseFlag(file, spec.flag, raw));
      return withShadow(live, shadowOf(spec, file, flags));
    },
    apply(change) {
      // Queued at once, in call order, by the path as written; located inside the queue. Queuing after an await
      // would let a later apply overtake an earlier one (the last call must win).
      return serialized(path.resolve(root, String(spec.path)), async () => {
        const file = await locate();
        const loaded = await loadFlagFile(file);
        const raw = loaded ? own(loaded.flags, spec.flag) : undefined;
        const existing = raw === undefined ? undefined : parseFlag(file, spec.flag, raw);
        const companion = shadowSpec(spec);
        const present = loaded ? own(loaded.flags, companion.flag) : undefined;
        // a flag of that name this tool did not write is someone else's: never read, reset or taken over
        const rawShadow = isCompanionOf(spec, present) ? present : undefined;
        if (change.shadow && present !== undefined && rawShadow === undefined) {
          throw new TargetError(
            `flag "${companion.flag}" in ${file.shown} exists and was not written for a shadow step of "${spec.flag}"; ` +
              'rename it, or remove the shadow step (the file was left untouched)',
            'REFUSED',
            false,
          );
        }
        const unchanged = existing ? checkVariants(spec, file, existing, change) : undefined;
        if (unchanged && !change.shadow && rawShadow === undefined) return unchanged;
        const flag = unchanged ? raw : buildFlag(spec, existing, change);
        // the companion flag is written once a shadow step asks for it, and set to 0 % (kept) afterwards
        const shadow =
          change.shadow || rawShadow !== undefined
            ? markCompanion(
                spec,
                buildFlag(companion, rawShadow === undefined ? undefined : parseFlag(file, companion.flag, rawShadow), {
                  percent: change.shadow ?? 0,
                  idempotencyKey: change.idempotencyKey,
                }),
              )
            : undefined;
        const changes: JsonObject = {};
        if (JSON.stringify(flag) !== JSON.stringify(raw)) changes[spec.flag] = flag as JsonObject;
        if (shadow && JSON.stringify(shadow) !== JSON.stringify(rawShadow)) changes[companion.flag] = shadow;
        // An unchanged flag is not rewritten: a retried apply should not make flagd reload the file.
        if (Object.keys(changes).length > 0) {
          const doc = loaded
            ? jsonObject(loaded.doc, { flags: jsonObject(loaded.flags, changes) })
            : { $schema: SCHEMA_URL, flags: changes };
          await writeFlagFile(file, `${JSON.stringify(doc, null, loaded?.indent ?? 2)}\n`, loaded?.mode);
        }
        const live = unchanged ?? readingOf(spec, file.shown, parseFlag(file, spec.flag, flag));
        return withShadow(
          live,
          shadow ? readingOf(companion, file.shown, parseFlag(file, companion.flag, shadow)).percent : 0,
        );
      });
    },
  };
}

/**
 * The companion flag of a shadow step: `<flag>-shadow`, boolean (`on` / `off`), in the same file. The application
 * evaluates it per request: `on` means run the new variant too, compare, and serve the live result.
 */
export function shadowSpec(spec: FlagdTargetSpec): FlagdTargetSpec {
  return { ...spec, flag: `${spec.flag}-shadow`, variant: 'on', baselineVariant: 'off' };
}

/** The metadata key that marks a companion flag as written for a shadow step of the flag it names. */
const SHADOW_OF = 'rolloutShadowOf';

function isCompanionOf(spec: FlagdTargetSpec, raw: unknown): boolean {
  const metadata = isObject(raw) ? own(raw, 'metadata') : undefined;
  return isObject(metadata) && own(metadata, SHADOW_OF) === spec.flag;
}

function markCompanion(spec: FlagdTargetSpec, flag: JsonObject): JsonObject {
  const metadata = isObject(flag.metadata) ? flag.metadata : undefined;
  return jsonObject(flag, { metadata: jsonObject(metadata, { [SHADOW_OF]: spec.flag }) });
}

/** The companion flag's share: 0 when the file has none, or has a flag of that name this tool did not write. */
function shadowOf(spec: FlagdTargetSpec, file: ConfinedFile, flags: JsonObject): number {
  const companion = shadowSpec(spec);
  const raw = own(flags, companion.flag);
  if (!isCompanionOf(spec, raw)) return 0;
  return readingOf(companion, file.shown, parseFlag(file, companion.flag, raw)).percent;
}

const withShadow = (live: ExposureReading, shadow: number): ExposureReading =>
  shadow > 0 ? { ...live, shadow } : live;

/** The spec as the schema accepts it, or a REFUSED error naming each problem (static, never the refused value). */
function checked(spec: FlagdTargetSpec): FlagdTargetSpec {
  const result = FlagdTargetSpec.safeParse(spec);
  if (result.success) return result.data;
  const problems = result.error.issues.map((i) => `${i.path.join('.') || 'target'}: ${i.message}`);
  throw new TargetError(`flagd target refused: ${problems.join('; ')}`, 'REFUSED', false);
}

/**
 * Checks, before anything is written, that an existing flag defines the variants `change` writes. A change to 0 %
 * writes only the baseline, so it needs only the baseline: a rollback after a refused first step restores exposure
 * without depending on the variant that was refused. Returns the current reading when there is nothing to write:
 * back to 0 % on a flag that lacks the baseline but serves the rolled-out variant to nobody. Otherwise a missing
 * variant is refused, naming the flag and what is missing (not the file's other variants: its content stays out of
 * messages).
 */
function checkVariants(
  spec: FlagdTargetSpec,
  file: ConfinedFile,
  flag: FlagDefinition,
  change: { percent: number; cohort?: Cohort | undefined },
): ExposureReading | undefined {
  const needed = change.percent === 0 ? [spec.baselineVariant] : [spec.variant, spec.baselineVariant];
  const missing = needed.filter((name) => !Object.hasOwn(flag.variants, name));
  if (missing.length === 0) return undefined;
  if (change.percent === 0 && !change.cohort) {
    const current = readingOf(spec, file.shown, flag);
    if (current.percent === 0 && !current.cohort) return current;
  }
  throw new TargetError(
    `flag "${spec.flag}" in ${file.shown} has no variant ${missing.map((m) => `"${m}"`).join(' or ')}; ` +
      'add it to the flag or fix the target spec (the file was left untouched)',
    'CONFIG',
    false,
  );
}

/** The flag as `change` leaves it: its other keys and state kept, variants created only for a new flag. */
function buildFlag(
  spec: FlagdTargetSpec,
  raw: FlagDefinition | undefined,
  change: { percent: number; cohort?: Cohort | undefined; idempotencyKey: string },
): JsonObject {
  const metadata = jsonObject(raw?.metadata, {
    [META.percent]: change.percent,
    [META.lastKey]: change.idempotencyKey,
  });
  if (change.cohort) metadata[META.cohort] = JSON.stringify(change.cohort);
  else delete metadata[META.cohort];
  const exposure: Exposure = change.cohort
    ? { percent: change.percent, cohort: change.cohort }
    : { percent: change.percent };
  // `raw` first keeps unknown keys and the original key order; a human's DISABLED state is respected.
  return jsonObject(raw, {
    state: raw?.state ?? 'ENABLED',
    variants: raw?.variants ?? initialVariants(spec.variant, spec.baselineVariant),
    ...targetingFor(spec, exposure),
    metadata,
  });
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
    ? jsonObject({ [variant]: TRUTHY.has(variant.toLowerCase()), [baseline]: TRUTHY.has(baseline.toLowerCase()) })
    : jsonObject({ [variant]: variant, [baseline]: baseline });
}
