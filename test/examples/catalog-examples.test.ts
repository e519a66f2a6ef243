import { copyFile, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFlagdFileTarget } from '../../activities/targets/flagd/flagd-file-target.js';
import { DEV_DEFAULT_CATALOG } from '../../src/catalog/dev-default.js';
import { loadCatalogFile, rootDir, type LoadedCatalog } from '../../src/catalog/load.js';
import { SecretError, SecretStore } from '../../src/catalog/secrets.js';
import { loadDrillFile } from '../../src/cli/commands/drill.js';
import type { Catalog } from '../../src/domain/catalog.schema.js';
import { checkCatalog } from '../../src/domain/catalog.js';
import { checkDrill } from '../../src/domain/drill.schema.js';
import { withinHours } from '../../src/domain/policy.js';
import type { ResolvedSpec } from '../../src/domain/spec.schema.js';
import { checkSpec } from '../../src/spec/check.js';
import { readYamlFile, readYamlText, validateSpec } from '../../src/spec/load.js';

/*
 * The examples and the README as written: the example catalog loads, the example spec and drill resolve against it,
 * what the README says is refused is refused, and every YAML block in the README is what it claims to be.
 */

const repo = (file: string) => fileURLToPath(new URL(`../../${file}`, import.meta.url));
const CATALOG = repo('examples/rollout.config.yaml');
const SPEC = repo('examples/ranker-v2.yaml');
const DRILL = repo('examples/ranker-drill.yaml');

/** A Tuesday, 10:00 UTC: inside any working-hours window the example policy might set. */
const STARTING_AT = new Date('2025-06-03T10:00:00Z');

let loaded: LoadedCatalog;
let catalog: Catalog;
let ranker: Record<string, unknown>;

beforeAll(async () => {
  loaded = await loadCatalogFile(CATALOG);
  catalog = loaded.catalog;
  ranker = (await readYamlFile(SPEC)) as Record<string, unknown>;
});

/** The spec as the worker runs it; fails the test with the issues when it does not resolve. */
function resolved(spec: unknown): { spec: ResolvedSpec; targetName?: string } {
  const checked = checkSpec(spec, catalog, { startingAt: STARTING_AT });
  if (!checked.ok) throw new Error(`expected the spec to resolve:\n${JSON.stringify(checked.issues, null, 2)}`);
  return checked;
}

/** The issues `spec` is refused with (none when it resolves). */
function refused(spec: unknown): { path: string; message: string }[] {
  const checked = checkSpec(spec, catalog, { startingAt: STARTING_AT });
  return checked.ok ? [] : checked.issues;
}

/** The flag file a resolved flagd target writes, as an absolute path. */
function flagFileOf(spec: ResolvedSpec): string {
  const t = spec.target;
  if (t.type !== 'flagd' || t.root === undefined) throw new Error(`expected a flagd target with a root: ${t.type}`);
  const dir = rootDir(loaded, t.root);
  if (dir === undefined) throw new Error(`root ${t.root} is not declared`);
  return resolve(dir, t.path);
}

describe('examples/rollout.config.yaml', () => {
  it('loads: every cross-reference declared, relative paths against its own directory', () => {
    expect(loaded.file).toBe(CATALOG);
    expect(loaded.dir).toBe(repo('examples'));
    expect(rootDir(loaded, 'flags')).toBe(repo('examples/flags'));
    expect(Object.keys(catalog.targets)).toEqual(['ranker']);
    expect(catalog.targets.ranker).toMatchObject({
      type: 'flagd',
      root: 'flags',
      path: 'flags.json',
      flag: 'new-ranker',
    });
    expect(catalog.providers.prometheus).toMatchObject({ type: 'prometheus', url: 'http://127.0.0.1:9090' });
    expect(catalog.templates['error-rate']?.args).toMatchObject({
      service: { type: 'string' },
      max: { type: 'number', default: 0.02 },
    });
    expect(catalog.secrets['prom-token']).toEqual({ env: 'PROM_TOKEN' });
    expect(catalog.principals).toEqual({
      alice: { token: 'alice-token', roles: ['start', 'operate', 'approve'] },
      ci: { token: 'ci-token', roles: ['start'] },
    });
    expect(catalog.policy.targets.ranker).toEqual({
      requiredGuards: ['error-rate'],
      maxFirstStep: 5,
      approvalAbove: 25,
    });
    expect(catalog.inline).toEqual({ flagdRoot: 'flags', urls: [], loopback: false, memory: true, synthetic: true });
  });

  it('declares its secret file by a relative path and loads without it; the file is read at use, from its directory', async () => {
    expect(catalog.secrets['alice-token']).toEqual({ file: './secrets/alice-token' });
    // a copy in a fresh directory has no secrets/ beside it: loading must not need the file
    const dir = await mkdtemp(join(tmpdir(), 'catalog-example-'));
    try {
      await copyFile(CATALOG, join(dir, 'rollout.config.yaml'));
      const copy = await loadCatalogFile(join(dir, 'rollout.config.yaml'));
      const secrets = new SecretStore(copy, {});
      const missing = await secrets.get('alice-token').catch((err: unknown) => err);
      expect(missing).toBeInstanceOf(SecretError);
      expect((missing as Error).message).toMatch(/secret "alice-token" cannot be read from its file \(ENOENT\)/);
      await mkdir(join(dir, 'secrets'));
      await writeFile(join(dir, 'secrets', 'alice-token'), 'token-of-alice-0123456789\n', { mode: 0o600 });
      await expect(secrets.get('alice-token')).resolves.toBe('token-of-alice-0123456789');
      expect(secrets.redact('Bearer token-of-alice-0123456789')).toBe('Bearer [redacted]');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('examples/ranker-v2.yaml against the example catalog', () => {
  it('resolves to the flagd file under examples/flags, with the error-rate guard from its template', async () => {
    const rule = catalog.policy.targets.ranker;
    if (rule?.allowedHours) expect(withinHours(STARTING_AT, rule.allowedHours)).toBe(true);
    const { spec, targetName } = resolved(ranker);
    expect(targetName).toBe('ranker');
    expect(spec.target).toMatchObject({
      type: 'flagd',
      root: 'flags',
      flag: 'new-ranker',
      variant: 'on',
      baselineVariant: 'off',
    });
    expect(flagFileOf(spec)).toBe(repo('examples/flags/flags.json'));
    expect(spec.guards).toHaveLength(1);
    const [guard] = spec.guards;
    expect(guard).toMatchObject({ name: 'error-rate', source: { type: 'prometheus', url: 'http://127.0.0.1:9090' } });
    // a field that is only a placeholder keeps the argument's type
    expect(guard && 'max' in guard ? guard.max : undefined).toBe(0.02);
    expect(guard && 'query' in guard ? guard.query : '').toContain('service="ranker"');
    // the flag file is there and defines both variants: the target's own check (run before anything is written) passes
    const t = spec.target;
    if (t.type !== 'flagd') throw new Error('expected flagd');
    const target = createFlagdFileTarget(t, { baseDir: rootDir(loaded, 'flags')! });
    await expect(target.check?.()).resolves.toBeUndefined();
  });

  it('refuses a target the catalog does not declare, at `target`', () => {
    const issues = refused({ ...ranker, target: 'search' });
    expect(issues).toEqual([{ path: 'target', message: 'target "search" is not declared in the catalog' }]);
  });

  it('refuses a first step of 10 %, naming maxFirstStep', () => {
    const steps = ranker.steps as Record<string, unknown>[];
    const issues = refused({ ...ranker, steps: [{ ...steps[0], exposure: 10 }, ...steps.slice(1)] });
    expect(issues).toHaveLength(1);
    expect(issues[0]?.path).toBe('steps[0].exposure');
    expect(issues[0]?.message).toContain('maxFirstStep');
    expect(issues[0]?.message).toBe(
      'policy of target "ranker", maxFirstStep: the first step may expose at most 5 %, not 10 %',
    );
  });

  it('refuses it without the required guard, or with a step above 25 % before any approval', () => {
    expect(refused({ ...ranker, guards: [] }).map((i) => i.message)).toEqual([
      'policy of target "ranker", requiredGuards: must include guard "error-rate"',
    ]);
    const steps = (ranker.steps as Record<string, unknown>[]).filter((s) => !('approval' in s));
    expect(refused({ ...ranker, steps }).map((i) => i.message)).toEqual([
      'policy of target "ranker", approvalAbove: exposure above 25 % (100 %) must follow an approval step',
    ]);
  });

  it('refuses an inline target that writes the ranker flag: the flag is named "ranker", with its policy', () => {
    const inline = { type: 'flagd', path: 'flags.json', flag: 'new-ranker', variant: 'on', baselineVariant: 'off' };
    expect(refused({ ...ranker, target: inline, guards: [] })).toEqual([
      { path: 'target', message: 'writes the flag of catalog target "ranker": name it instead (target: ranker)' },
    ]);
  });

  it('refuses inline URLs (the catalog lists none) and template arguments it does not declare', () => {
    const inlineSource = {
      name: 'latency',
      source: { type: 'prometheus', url: 'http://127.0.0.1:9090' },
      query: 'x',
      max: 1,
    };
    expect(refused({ ...ranker, guards: [...(ranker.guards as unknown[]), inlineSource] })).toEqual([
      {
        path: 'guards[1].source.url',
        message: 'is not a URL the catalog allows inline (name a catalog entry instead)',
      },
    ]);
    const http = {
      type: 'http',
      url: 'https://flags.example.com/api/flags',
      flag: 'x',
      variant: 'on',
      baselineVariant: 'off',
    };
    expect(refused({ ...ranker, target: http }).map((i) => i.path)).toEqual(['target.url']);
    expect(
      refused({ ...ranker, guards: [{ template: 'error-rate', args: { service: 'ranker', window: '5m' } }] }),
    ).toEqual([{ path: 'guards[0].args.window', message: 'is not an argument of the template' }]);
    // the default pattern (and this one) keeps an argument from changing the query around it
    const injected = refused({
      ...ranker,
      guards: [{ template: 'error-rate', args: { service: 'x"} or vector(1) #' } }],
    });
    expect(injected.map((i) => i.path)).toEqual(['guards[0].args.service']);
  });
});

describe('examples/ranker-drill.yaml against the example catalog', () => {
  it('builds with its rollout file inlined, and its sandbox target lands under the inline root', async () => {
    const drill = checkDrill(await loadDrillFile(DRILL));
    if (!drill.ok) throw new Error(JSON.stringify(drill.issues, null, 2));
    expect(drill.drill.rolloutFile).toBe('./ranker-v2.yaml');
    const { spec, targetName } = resolved(drill.spec);
    expect(targetName).toBeUndefined();
    expect(spec.target).toMatchObject({ type: 'flagd', root: 'flags', flag: 'ranker-drill' });
    const file = flagFileOf(spec);
    expect(file).toBe(repo('examples/flags/sandbox/flags.json'));
    expect((await stat(resolve(file, '..'))).isDirectory()).toBe(true);
    // the drill signals a breach under the alert guard it declares (a breach naming no guard would be refused)
    expect(spec.guards.map((g) => g.name)).toEqual(['error-rate', 'drill-injected-breach']);
  });
});

/** Every fenced YAML block of the README, in order. */
async function readmeYamlBlocks(): Promise<string[]> {
  const readme = await readFile(repo('README.md'), 'utf8');
  return [...readme.matchAll(/^```yaml\n([\s\S]*?)^```$/gm)].map((m) => m[1]!);
}

const CATALOG_KEYS = ['roots', 'secrets', 'targets', 'providers', 'templates', 'notifiers', 'hooks', 'principals'];

describe('README.md', () => {
  it('every YAML block is a spec, a catalog or a drill, and each is valid', async () => {
    const blocks = await readmeYamlBlocks();
    const kinds = { spec: 0, catalog: 0, drill: 0, fragment: 0 };
    for (const block of blocks) {
      const read = readYamlText(block);
      if (!read.ok) throw new Error(`${read.problem}:\n${block}`);
      const value = read.value as Record<string, unknown>;
      if (/^# catalog: /.test(block)) {
        // a catalog fragment showing one kind of entry: valid on its own, every name it gives declared in it
        kinds.fragment += 1;
        const checked = checkCatalog(value);
        expect(checked.ok, `${JSON.stringify(checked)}\n${block}`).toBe(true);
      } else if (/^name:/.test(block)) {
        kinds.spec += 1;
        const shape = validateSpec(value);
        expect(shape.ok, `${JSON.stringify(shape)}\n${block}`).toBe(true);
        // …and it names only what the example catalog declares, within its policy
        resolved(value);
      } else if (/^# rollout\.config\.yaml/.test(block) || CATALOG_KEYS.some((k) => block.startsWith(`${k}:`))) {
        kinds.catalog += 1;
        const checked = checkCatalog(value);
        expect(checked.ok, `${JSON.stringify(checked)}\n${block}`).toBe(true);
        if (!checked.ok) continue;
        // a compact mirror of the example: the same entries, policy and inline rules
        for (const section of CATALOG_KEYS)
          expect(Object.keys(checked.catalog[section as keyof Catalog]), section).toEqual(
            Object.keys(catalog[section as keyof Catalog]),
          );
        expect(checked.catalog.policy).toEqual(catalog.policy);
        expect(checked.catalog.inline).toEqual(catalog.inline);
      } else if ('inject' in value) {
        kinds.drill += 1;
        const drill = checkDrill({ ...value, rollout: ranker });
        if (!drill.ok) throw new Error(`${JSON.stringify(drill.issues)}\n${block}`);
        resolved(drill.spec);
      } else {
        throw new Error(`a YAML block that is neither a spec, a catalog nor a drill:\n${block}`);
      }
    }
    expect(kinds).toMatchObject({ spec: 2, catalog: 1, drill: 1 });
    expect(kinds.fragment).toBeGreaterThanOrEqual(1);
  });

  it('the README spec resolves against the README catalog as well', async () => {
    const blocks = await readmeYamlBlocks();
    const spec = readYamlText(blocks.find((b) => /^name:/.test(b))!);
    const readmeCatalog = readYamlText(blocks.find((b) => /^# rollout\.config\.yaml/.test(b))!);
    if (!spec.ok || !readmeCatalog.ok) throw new Error('unreadable README block');
    const checked = checkCatalog(readmeCatalog.value);
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    const result = checkSpec(spec.value, checked.catalog, { startingAt: STARTING_AT });
    expect(result.ok, JSON.stringify(result)).toBe(true);
    if (!result.ok) return;
    expect(result.targetName).toBe('ranker');
    expect(result.spec.guards.map((g) => g.name)).toEqual(['error-rate', 'errors-vs-baseline']);
    expect(result.spec.rollback.compensations.map((c) => c.name)).toEqual(['scale-down-ranker']);
    expect(result.spec.notify).toHaveLength(2);
  });

  it('no longer mentions tokenEnv', async () => {
    expect(await readFile(repo('README.md'), 'utf8')).not.toContain('tokenEnv');
  });
});

describe("rollout dev's default catalog", () => {
  it('parses and checks: root flags, inline flagd under it, memory and synthetic, no inline URLs', () => {
    const read = readYamlText(DEV_DEFAULT_CATALOG);
    if (!read.ok) throw new Error(read.problem);
    const checked = checkCatalog(read.value);
    if (!checked.ok) throw new Error(JSON.stringify(checked.issues));
    expect(checked.catalog.roots).toEqual({ flags: './flags' });
    expect(checked.catalog.inline).toEqual({
      flagdRoot: 'flags',
      urls: [],
      loopback: false,
      memory: true,
      synthetic: true,
    });
    expect(checked.catalog.targets).toEqual({});
    expect(checked.catalog.principals).toEqual({});
  });
});
