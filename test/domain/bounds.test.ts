import { describe, expect, it } from 'vitest';
import {
  boundedText,
  MAX_BREACH_RECORDS_PER_GUARD,
  MAX_LABEL,
  MAX_OPERATOR_PAUSES,
  MAX_SOURCE,
  MAX_SPEC_TEXT_BYTES,
  MAX_TEXT,
  truncate,
  utf8Length,
} from '../../src/domain/bounds.js';
import { GuardBreach, PauseCommand } from '../../src/domain/commands.schema.js';
import { boundBreach, rejectAbort, rejectPause } from '../../src/domain/commands.js';
import { initialState, PUSHED_BREACH_CHECK, recordPushedBreach } from '../../src/domain/rollout-state.js';
import type { RolloutState } from '../../src/domain/rollout-state.schema.js';
import { ResolvedSpec } from '../../src/domain/spec.schema.js';
import type { MeasurementRecord } from '../../src/domain/tally.schema.js';
import { flattenIssues } from '../../src/domain/validation.js';
import { parseSpecText, validateSpec } from '../../src/spec/load.js';

const target = { type: 'memory', name: 'm', flag: 'f', variant: 'on', baselineVariant: 'off' };
const spec = (patch: Record<string, unknown> = {}) => ({ name: 'ok', target, steps: [{ exposure: 5 }], ...patch });
const guard = (patch: Record<string, unknown> = {}) => ({
  name: 'g',
  source: { type: 'synthetic' },
  query: 'q',
  max: 1,
  ...patch,
});
const many = <T>(n: number, make: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => make(i));

describe('truncate and boundedText', () => {
  it('keeps short text, cuts long text to the limit and marks the cut', () => {
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcdef', 4)).toBe('abc…');
    expect(truncate('abcdef', 4)).toHaveLength(4);
    // a surrogate pair is never split
    expect(truncate('ab😀cd', 4)).toBe('ab…');
  });

  it('describes wrongly typed values instead of throwing', () => {
    expect(boundedText(undefined, 10)).toBe('undefined');
    expect(boundedText(12.5, 10)).toBe('12.5');
    expect(boundedText({ a: 1 }, 10)).toBe('(object)');
    expect(boundedText([1, 2], 10)).toBe('(array)');
    expect(boundedText('x'.repeat(50), 10)).toHaveLength(10);
  });

  it('counts UTF-8 bytes as Buffer does', () => {
    for (const text of ['abc', 'é', '€', '😀', 'a😀b€', '\ud800'])
      expect(utf8Length(text), text).toBe(Buffer.byteLength(text));
  });
});

/** A spec patch over the limit, where its issue must be, and what it must say. */
const OVER_THE_LIMIT: [Record<string, unknown>, string, RegExp][] = [
  [{ description: 'd'.repeat(2_001) }, 'description', /at most 2000 characters/],
  [{ steps: [{ exposure: 5, name: 'n'.repeat(101) }] }, 'steps[0].name', /at most 100 characters/],
  [{ steps: many(101, () => ({ exposure: 5 })) }, 'steps', /at most 100 steps/],
  [
    { steps: [{ exposure: 5 }, { approval: { approvers: ['a'.repeat(201)] } }] },
    'steps[1].approval.approvers[0]',
    /at most 200 characters/,
  ],
  [
    { steps: [{ exposure: 5 }, { approval: { approvers: many(51, (i) => `a${i}`) } }] },
    'steps[1].approval.approvers',
    /at most 50 approvers/,
  ],
  [
    { steps: [{ exposure: 5, cohort: { attribute: 'region', values: ['v'.repeat(101)] } }] },
    'steps[0].cohort.values[0]',
    /at most 100 characters/,
  ],
  [{ guards: [guard({ name: 'g'.repeat(101) })] }, 'guards[0].name', /at most 100 characters/],
  [{ guards: [guard({ query: 'q'.repeat(4_001) })] }, 'guards[0].query', /at most 4000 characters/],
  [{ guards: [guard({ perCohort: 'p'.repeat(101) })] }, 'guards[0].perCohort', /at most 100 characters/],
  [{ guards: many(51, (i) => guard({ name: `g${i}` })) }, 'guards', /at most 50 guards/],
  [
    { rollback: { compensations: [{ name: 'c'.repeat(101), http: { url: 'http://h/x' } }] } },
    'rollback.compensations[0].name',
    /at most 100 characters/,
  ],
  [
    { rollback: { compensations: many(21, () => ({ http: { url: 'http://h/x' } })) } },
    'rollback.compensations',
    /at most 20 compensations/,
  ],
  [{ target: 'c'.repeat(64) }, 'target', /at most 63 characters/],
  [{ target: { name: 'c'.repeat(64) } }, 'target.name', /at most 63 characters/],
  [{ guards: [{ template: 't'.repeat(64) }] }, 'guards[0].template', /at most 63 characters/],
  [{ guards: [{ template: 't', args: { a: 'v'.repeat(201) } }] }, 'guards[0].args.a', /at most 200 characters/],
  [
    { guards: [{ template: 't', args: Object.fromEntries(many(21, (i) => [`a${i}`, i])) }] },
    'guards[0].args',
    /at most 20 arguments/,
  ],
  [{ guards: [guard({ source: 'p'.repeat(64) })] }, 'guards[0].source', /at most 63 characters/],
  [{ rollback: { compensations: [{ hook: 'h'.repeat(64) }] } }, 'rollback.compensations[0].hook', /at most 63/],
  [{ notify: ['n'.repeat(64)] }, 'notify[0]', /at most 63 characters/],
  [{ notify: many(21, () => ({ log: {} })) }, 'notify', /at most 20 notifiers/],
  [{ notify: [{ webhook: { url: `http://h/${'p'.repeat(2_048)}` } }] }, 'notify[0].webhook.url', /at most 2048/],
  [{ steps: [{ exposure: 5, observe: '99999999999d' }] }, 'steps[0].observe', /at most 90d/],
  [{ steps: [{ exposure: 5, observe: '2160h1ms' }] }, 'steps[0].observe', /at most 90d/],
  [{ steps: [{ exposure: 5, observe: `${'1'.repeat(3_000_000)}d` }] }, 'steps[0].observe', /at most 32 characters/],
  [{ steps: [{ exposure: 5 }, { pause: '91d' }] }, 'steps[1].pause', /at most 90d/],
  [{ steps: [{ exposure: 5 }, { approval: { timeout: '100d' } }] }, 'steps[1].approval.timeout', /at most 90d/],
  [{ guards: [guard({ interval: '91d' })] }, 'guards[0].interval', /at most 90d/],
  [
    { guards: [guard({ source: { type: 'synthetic', series: { q: many(60_000, () => 0.123456) } } })] },
    '(root)',
    /the spec is too large \(\d+ KB as JSON; at most 256 KB\)/,
  ],
];

describe('spec bounds: every caller-supplied string and list is refused past its limit, at its path', () => {
  it.each(OVER_THE_LIMIT.map(([patch, path, message]) => ({ patch, path, message })))(
    'refuses at $path ($message)',
    ({ patch, path, message }) => {
      const result = validateSpec(spec(patch));
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.issues, JSON.stringify(result.issues).slice(0, 500)).toEqual([
        { path, message: expect.stringMatching(message) },
      ]);
    },
  );

  it('accepts everything at its limit', () => {
    const result = validateSpec(
      spec({
        description: 'd'.repeat(2_000),
        steps: [
          { exposure: 5, name: 'n'.repeat(100), observe: '90d' },
          { approval: { approvers: many(50, (i) => `${i}`.padEnd(200, 'a')), timeout: '2160h' } },
          ...many(98, () => ({ exposure: 50 })),
        ],
        guards: [
          guard({ name: 'g'.repeat(100), query: 'q'.repeat(4_000), interval: '90d', source: 'p'.repeat(63) }),
          {
            template: 't'.repeat(63),
            args: Object.fromEntries(many(20, (i) => [`${i}`.padEnd(100, 'a'), 'v'.repeat(200)])),
          },
        ],
        rollback: { compensations: [{ hook: 'h'.repeat(63) }] },
        notify: ['n'.repeat(63)],
      }),
    );
    expect(result.ok, JSON.stringify(result.ok ? '' : result.issues)).toBe(true);
    expect(validateSpec(spec({ target: 'c'.repeat(63) })).ok).toBe(true);
    expect(validateSpec(spec({ target: { name: 'c'.repeat(63), variant: 'v'.repeat(200) } })).ok).toBe(true);
  });

  it('bounds header values where they can still appear: the resolved spec (from the catalog), never a caller spec', () => {
    const resolved = (value: string) =>
      ResolvedSpec.safeParse(
        spec({ rollback: { compensations: [{ http: { url: 'http://h/x', headers: { a: value } } }] } }),
      );
    expect(resolved('v'.repeat(4_000)).success).toBe(true);
    const over = resolved('v'.repeat(4_001));
    expect(over.success).toBe(false);
    expect(flattenIssues(over.error?.issues ?? [])).toEqual([
      { path: 'rollback.compensations[0].http.headers.a', message: 'must be at most 4000 characters' },
    ]);
  });
});

describe('spec text: aliases and size', () => {
  it('refuses a YAML alias bomb with one issue, without expanding it', () => {
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const [prev, name] = [String.fromCharCode(96 + i), String.fromCharCode(97 + i)];
      levels.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    // expanded, these nine levels would be 387 million strings: the refusal comes before any expansion
    const result = parseSpecText(levels.join('\n'));
    expect(result).toEqual({
      ok: false,
      issues: [{ path: '(root)', message: 'too many YAML aliases (at most 100 may be expanded)' }],
    });
  });

  it('still reads a spec with a few anchors and aliases', () => {
    const result = parseSpecText(
      `name: ok\ntarget: { type: memory, name: m, flag: f, variant: "on", baselineVariant: "off" }\n` +
        `steps:\n  - &step { exposure: 5 }\n  - *step\n`,
    );
    expect(result.ok).toBe(true);
  });

  it('refuses text over the limit before parsing it', () => {
    const result = parseSpecText(`name: ok\ndescription: "${'x'.repeat(MAX_SPEC_TEXT_BYTES)}"\n`);
    expect(result).toEqual({
      ok: false,
      issues: [{ path: '(root)', message: expect.stringMatching(/^too large \(\d+ KB; a spec may be at most 256 KB/) }],
    });
  });
});

describe('command bounds', () => {
  const observing = initialState({ runId: 'r', totalSteps: 2, baseline: 0, now: 't' });
  observing.phase = 'Observing';

  it('the zod schemas refuse an oversized breach or a non-finite value, at its field', () => {
    const bad = [
      [{ guard: 'g'.repeat(MAX_LABEL + 1) }, 'guard'],
      [{ guard: 'g', reason: 'r'.repeat(MAX_TEXT + 1) }, 'reason'],
      [{ guard: 'g', source: 's'.repeat(MAX_SOURCE + 1) }, 'source'],
      [{ guard: 'g', value: Number.POSITIVE_INFINITY }, 'value'],
      [{ guard: 'g', value: Number.NaN }, 'value'],
    ] as const;
    for (const [breach, field] of bad) {
      const parsed = GuardBreach.safeParse(breach);
      expect(parsed.success, field).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual([field]);
    }
    expect(GuardBreach.safeParse({ guard: 'g', value: 1, source: 's', reason: 'r' }).success).toBe(true);
  });

  it('the validators measure the text as sent: padding is no way past the bound', () => {
    const padded = { actor: 'ana', reason: `${' '.repeat(MAX_TEXT)}why` };
    expect(PauseCommand.safeParse(padded).success).toBe(true); // the client trims before sending
    expect(rejectPause(observing, padded)).toBe(`cannot pause: reason: must be at most ${MAX_TEXT} characters`);
    expect(rejectAbort(observing, padded)).toBe(`cannot abort: reason: must be at most ${MAX_TEXT} characters`);
  });

  it(`refuses an operator pause beyond ${MAX_OPERATOR_PAUSES} held at once`, () => {
    const full: RolloutState = {
      ...observing,
      phase: 'Paused',
      pauseReasons: many(MAX_OPERATOR_PAUSES, (i) => ({ kind: 'operator', reason: `r${i}`, actor: 'a', at: 't' })),
    };
    expect(rejectPause(full, { actor: 'a', reason: 'one more' })).toMatch(/already paused by operators for 20 reasons/);
    expect(rejectPause({ ...full, pauseReasons: full.pauseReasons.slice(1) }, { actor: 'a', reason: 'x' })).toBe(
      undefined,
    );
  });
});

describe('boundBreach: whatever a signal carries, the workflow keeps a bounded breach and never throws', () => {
  it.each([
    [null, { guard: 'undefined' }],
    ['text', { guard: 'undefined' }],
    [[1, 2], { guard: 'undefined' }],
    [{}, { guard: 'undefined' }],
    [{ guard: 42 }, { guard: '42' }],
    [{ guard: { nested: true } }, { guard: '(object)' }],
    [
      { guard: 'g', value: '0.5' },
      { guard: 'g', name: 'g' },
    ],
    [
      { guard: 'g', value: null },
      { guard: 'g', name: 'g' },
    ],
    [
      { guard: 'g', value: 0.5, source: 7, reason: ['a'] },
      { guard: 'g', name: 'g', value: 0.5, source: '7', reason: '(array)' },
    ],
    [
      { guard: 'g', source: '', reason: '' },
      { guard: 'g', name: 'g', reason: '' },
    ],
  ])('%j', (payload, expected) => {
    expect(boundBreach(payload)).toEqual(expected);
  });

  it('truncates long fields and names no guard when the name is longer than any guard can be', () => {
    const b = boundBreach({ guard: 'g'.repeat(300_000), source: 's'.repeat(300_000), reason: 'r'.repeat(300_000) });
    expect(b.name).toBeUndefined();
    expect(b.guard).toHaveLength(MAX_LABEL);
    expect(b.source).toHaveLength(MAX_SOURCE);
    expect(b.reason).toHaveLength(MAX_TEXT);
    expect(b.reason!.endsWith('…')).toBe(true);
  });
});

describe('recordPushedBreach', () => {
  const record = (guard: string, n: number): MeasurementRecord => ({
    guard,
    at: `t${n}`,
    step: 0,
    check: PUSHED_BREACH_CHECK,
    verdict: 'Failed',
    value: n,
    threshold: `pushed breach ${n}/1001`,
    detail: `breach ${n}`,
  });

  it(`keeps at most ${MAX_BREACH_RECORDS_PER_GUARD} per guard: the first ones and the latest; pulled checks untouched`, () => {
    const pulled: MeasurementRecord = { ...record('a', 0), check: 3, detail: 'pulled' };
    const measurements: MeasurementRecord[] = [pulled];
    for (let n = 1; n <= 1_000; n++) {
      recordPushedBreach(measurements, record('a', n));
      if (n <= 3) recordPushedBreach(measurements, record('b', n));
    }
    const a = measurements.filter((m) => m.guard === 'a' && m.check === PUSHED_BREACH_CHECK);
    expect(a.map((m) => m.value)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 1_000]);
    expect(measurements.filter((m) => m.guard === 'b').map((m) => m.value)).toEqual([1, 2, 3]);
    expect(measurements[0]).toBe(pulled);
  });
});
