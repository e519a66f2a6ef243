import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkDrill } from '../../src/domain/drill.schema.js';
import { FlagdTargetSpec } from '../../src/domain/target-spec.schema.js';
import { parseSpecText, validateSpec } from '../../src/spec/load.js';
import { catalogOf } from '../../src/catalog/load.js';
import { DEMO_FLAG, DEMO_NAMES, demoCatalog, demoSpec, type DemoMetrics } from '../../src/demo/demo-spec.js';
import { EMPTY_CATALOG } from '../../src/domain/catalog.js';
import { checkSpec } from '../../src/spec/check.js';

const target = { type: 'flagd', path: 'flags.json', flag: 'new-ranker', variant: 'on', baselineVariant: 'off' };
const repo = (file: string) => new URL(`../../${file}`, import.meta.url);

/** The issues a spec with this target gets, at `target.<field>`. */
function issuesAt(patch: Record<string, unknown>, field: string): string[] {
  const result = validateSpec({ name: 'ok', target: { ...target, ...patch }, steps: [{ exposure: 5 }] });
  return result.ok ? [] : result.issues.filter((i) => i.path === `target.${field}`).map((i) => i.message);
}

describe('flagd target spec: where the flag file may be', () => {
  it.each([
    ['../x.json', /must not contain "\.\." segments/],
    ['flags/../../x.json', /must not contain "\.\." segments/],
    ['..', /must not contain "\.\." segments/],
    ['flags\\..\\..\\x.json', /must not contain "\.\." segments/],
    ['/etc/passwd', /must be relative to the worker's base directory, not absolute/],
    ['\\\\server\\share\\flags.json', /not absolute/],
    ['C:\\flags\\flags.json', /not absolute/],
    ['flags\0.json', /must not contain a NUL character/],
    ['x'.repeat(1_025), /must be at most 1024 characters/],
    ['', /must name the flag file/],
  ])('refuses %j at target.path', (path, message) => {
    const messages = issuesAt({ path }, 'path');
    expect(messages).toHaveLength(1);
    expect(messages[0]).toMatch(message);
  });

  it.each(['flags.json', './flags/flags.json', '.rollout/demo/flags.json', 'a/b..c/...json', 'x'.repeat(1_024)])(
    'accepts %j',
    (path) => expect(FlagdTargetSpec.safeParse({ ...target, path }).success).toBe(true),
  );

  it('still accepts the examples, the README spec and the drill sandbox', async () => {
    const readme = await readFile(repo('README.md'), 'utf8');
    const block = /## A rollout spec\s+```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const example = await readFile(repo('examples/ranker-v2.yaml'), 'utf8');
    for (const [where, text] of [
      ['README.md', block!],
      ['examples/ranker-v2.yaml', example],
    ] as const) {
      const result = parseSpecText(text);
      expect(result.ok, `${where}: ${JSON.stringify(result)}`).toBe(true);
    }
    const drill = parse(await readFile(repo('examples/ranker-drill.yaml'), 'utf8')) as Record<string, unknown>;
    const checked = checkDrill({ ...drill, rollout: parse(example) as unknown });
    expect(checked.ok, JSON.stringify(checked)).toBe(true);
  });

  it.each<DemoMetrics>([
    { kind: 'prometheus', url: 'http://127.0.0.1:9090' },
    { kind: 'scrape', url: 'http://127.0.0.1:8080/metrics' },
  ])('the demo spec resolves against the demo catalog ($kind)', (metrics) => {
    const { catalog } = catalogOf(demoCatalog({ metrics, baseDir: '/srv/demo' }));
    const checked = checkSpec(demoSpec({ window: '20s' }), catalog);
    expect(checked.ok, JSON.stringify(checked)).toBe(true);
    if (!checked.ok) return;
    expect(checked.targetName).toBe(DEMO_NAMES.target);
    expect(checked.spec.target).toMatchObject({ type: 'flagd', flag: DEMO_FLAG.key, root: DEMO_NAMES.root });
    // the flag file the demo writes is one a spec could name too: relative, under its root
    expect(FlagdTargetSpec.safeParse({ ...target, path: DEMO_FLAG.path }).success).toBe(true);
    expect(checked.spec.guards.map((g) => g.name)).toEqual([DEMO_NAMES.errorRatio, DEMO_NAMES.latency]);
    // …and it names catalog entries: on its own, with nothing declared, it does not resolve
    expect(checkSpec(demoSpec({ window: '20s' }), EMPTY_CATALOG).ok).toBe(false);
  });
});

describe('flag and variant names that are Object.prototype keys', () => {
  it.each([
    ['flag', '__proto__'],
    ['flag', 'constructor'],
    ['flag', 'prototype'],
    ['variant', '__proto__'],
    ['variant', 'constructor'],
    ['variant', 'prototype'],
    ['baselineVariant', '__proto__'],
  ])('refuses %s %j with a message at that field', (field, name) => {
    const messages = issuesAt({ [field]: name }, field);
    expect(messages.length).toBeGreaterThan(0);
    expect(messages.join(' ')).toMatch(field === 'flag' && name === '__proto__' ? /flag key/ : /reserved/);
  });

  it('accepts other names that an object inherits, such as toString and valueOf', () => {
    expect(issuesAt({ flag: 'toString', variant: 'valueOf', baselineVariant: 'hasOwnProperty' }, 'flag')).toEqual([]);
    expect(
      validateSpec({
        name: 'ok',
        target: { ...target, flag: 'toString', variant: 'valueOf', baselineVariant: 'hasOwnProperty' },
        steps: [{ exposure: 5 }],
      }).ok,
    ).toBe(true);
  });

  it('bounds variant names', () => {
    expect(issuesAt({ variant: 'v'.repeat(201) }, 'variant')).toEqual(['must be at most 200 characters']);
  });

  it('checks a drill override target the same way', () => {
    const rollout = { name: 'r', target, steps: [{ exposure: 5, observe: '1s' }] };
    const checked = checkDrill({
      name: 'd',
      rollout,
      overrides: { target: { ...target, path: '../escape.json' } },
      inject: { atStep: 0 },
    });
    expect(checked.ok).toBe(false);
    if (!checked.ok) expect(checked.issues.map((i) => i.path)).toContain('overrides.target.path');
  });

  it('takes a drill override target by catalog name, and refuses credentials in it', () => {
    const rollout = { name: 'r', target, steps: [{ exposure: 5, observe: '1s' }] };
    const drill = (override: unknown) =>
      checkDrill({ name: 'd', rollout, overrides: { target: override }, inject: { atStep: 0 } });
    const named = drill('sandbox');
    expect(named.ok, JSON.stringify(named)).toBe(true);
    if (named.ok) expect(named.spec.target).toBe('sandbox');
    expect(drill({ name: 'sandbox', variant: 'on', baselineVariant: 'off' }).ok).toBe(true);
    const { path: _path, ...common } = target;
    const withToken = drill({ ...common, type: 'http', url: 'http://127.0.0.1:1/flags', tokenEnv: 'FLAG_TOKEN' });
    expect(withToken.ok).toBe(false);
    if (!withToken.ok)
      expect(withToken.issues).toEqual([{ path: 'overrides.target', message: 'unknown key: tokenEnv' }]);
  });
});
