import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { checkDrill } from '../../src/domain/drill.schema.js';
import { FlagdTargetSpec } from '../../src/domain/target-spec.schema.js';
import { parseSpecText, validateSpec } from '../../src/spec/load.js';
import { DEMO_FLAG } from '../../src/demo/demo-spec.js';

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

  it('still accepts the examples, the README spec, the demo and the drill sandbox', async () => {
    const readme = await readFile(repo('README.md'), 'utf8');
    const block = /## A rollout spec\s+```yaml\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(block).toBeDefined();
    const example = await readFile(repo('examples/ranker-v2.yaml'), 'utf8');
    for (const text of [block!, example]) {
      const result = parseSpecText(text);
      expect(result.ok, JSON.stringify(result)).toBe(true);
    }
    const drill = parse(await readFile(repo('examples/ranker-drill.yaml'), 'utf8')) as Record<string, unknown>;
    const checked = checkDrill({ ...drill, rollout: parse(example) as unknown });
    expect(checked.ok, JSON.stringify(checked)).toBe(true);
    expect(FlagdTargetSpec.safeParse({ ...target, path: DEMO_FLAG.path }).success).toBe(true);
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
});
