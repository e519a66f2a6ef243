import { describe, expect, it } from 'vitest';
import { formatMs, toMs } from '../../src/domain/time.js';
import { parseSpecText, specJsonSchema, validateSpec } from '../../src/spec/load.js';

const target = { type: 'flagd', path: 'flags.json', flag: 'new-ranker', variant: 'on', baselineVariant: 'off' };

describe('rollout spec', () => {
  it('accepts the documented example and fills defaults', () => {
    const result = parseSpecText(`
name: ranker-v2
target: { type: flagd, path: ./flags/flags.json, flag: new-ranker, variant: "on", baselineVariant: "off" }
steps:
  - exposure: 1
    observe: 5m
  - approval: { timeout: 1h, onTimeout: rollback }
  - pause: {}
  - pause: 10m
  - exposure: 25
    observe: 30m
    cohort: { attribute: region, values: [eu-west] }
  - exposure: 100
guards: []
rollback:
  compensations: [ { http: { url: "http://127.0.0.1:1/hook", method: POST, body: { a: 1 } } } ]
notify: [ { webhook: { url: "http://127.0.0.1:1/notify" } } ]
`);
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.spec.rollback.exposure).toBe(0);
    expect(result.spec.steps).toHaveLength(6);
    expect(result.spec.analysis).toEqual({ maxExtensions: 0, onInconclusive: 'pause' });
  });

  it.each([
    [{ name: 'Bad_Name' }, 'name', /a-z, 0-9/],
    [{ steps: [{ exposure: 101 }] }, 'steps[0].exposure', /≤ 100/],
    [{ steps: [{ exposure: -1 }] }, 'steps[0].exposure', /≥ 0/],
    [{ steps: [{ exposure: 5, observe: '5 minutes' }] }, 'steps[0].observe', /duration like 30s/],
    [
      { steps: [{ exposure: 5 }, { approval: { onTimeout: 'explode' } }] },
      'steps[1].approval.onTimeout',
      /rollback|pause/,
    ],
    [{ steps: [{ exposure: 5 }, { wait: 1 }] }, 'steps[1]', /one of the keys exposure, approval, pause/],
    [
      { steps: [{ exposure: 5, cohort: { attribute: 'region', values: [] } }] },
      'steps[0].cohort.values',
      /at least one value/,
    ],
    [{ steps: [] }, 'steps', /at least one step/],
    [{ steps: [{ pause: {} }] }, 'steps', /at least one exposure step/],
    [{ target: { ...target, baselineVariant: 'on' } }, 'target.variant', /must differ/],
    [{ target: { ...target, type: 'http', url: 'ftp://x' } }, 'target.url', /http\(s\) URL/],
    [{ rollback: { exposure: 10 }, steps: [{ exposure: 5 }] }, 'steps[0].exposure', /≥ rollback.exposure/],
    [
      { rollback: { compensations: [{ http: { url: 'http://x', tokenEnv: 'sk-live-123' } }] } },
      'rollback.compensations[0].http.tokenEnv',
      /environment variable name/,
    ],
    [{ extra: true }, '(root)', /unknown key: extra/],
  ])('rejects %j at %s', (patch, path, message) => {
    const result = validateSpec({ name: 'ok', target, steps: [{ exposure: 5 }], ...patch });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const issue = result.issues.find((i) => i.path === path);
    expect(issue, JSON.stringify(result.issues)).toBeDefined();
    expect(issue!.message).toMatch(message);
  });

  it('reports YAML syntax errors without throwing', () => {
    const result = parseSpecText('name: [unclosed');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.issues[0]?.message).toMatch(/^syntax:/);
  });

  it('exports a JSON Schema that names the public fields', () => {
    const schema = JSON.stringify(specJsonSchema());
    for (const field of ['baselineVariant', 'observe', 'approval', 'onTimeout', 'compensations', 'cohort'])
      expect(schema).toContain(field);
  });

  it('parses and formats durations', () => {
    expect(toMs('30s')).toBe(30_000);
    expect(toMs('1h30m')).toBe(5_400_000);
    expect(toMs('2d')).toBe(172_800_000);
    expect(toMs('250ms')).toBe(250);
    expect(formatMs(5_400_000)).toBe('1h 30m');
    expect(formatMs(999)).toBe('999ms');
  });
});
