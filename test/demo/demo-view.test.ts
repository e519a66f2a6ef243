import { describe, expect, it } from 'vitest';
import { DEMO_ROLLOUT_ID } from '../../src/demo/demo-spec.js';
import { demoFrame, demoSummary, type DemoViewState } from '../../src/demo/demo-view.js';
import { renderStatus } from '../../src/view/render.js';
import type { RolloutStatus } from '../../workflows/messages.js';

const view = (over: Partial<DemoViewState> = {}): DemoViewState => ({
  serviceUrl: 'http://127.0.0.1:28090',
  metrics: { kind: 'scrape', url: 'http://127.0.0.1:28090/metrics' },
  prometheusUrl: undefined,
  rps: 40,
  load: { sent: 511, ok: 509, failed: 2, errors: 0, dropped: 0 },
  fault: false,
  faultArmed: true,
  uiUrl: 'http://127.0.0.1:28233/',
  namespace: 'default',
  address: '127.0.0.1:27233',
  keys: true,
  ...over,
});

const status = (over: Partial<RolloutStatus> = {}): RolloutStatus => ({
  name: 'demo-checkout',
  target: 'demo-checkout',
  phase: 'Observing',
  step: 1,
  totalSteps: 4,
  stepDescription: 'exposure 10%, observe 5s',
  steps: ['exposure 1%, observe 5s', 'exposure 10%, observe 5s', 'exposure 50%, observe 5s', 'exposure 100%'],
  exposure: { percent: 10 },
  pauseReasons: [],
  approvals: [],
  guards: [
    {
      name: 'canary-error-ratio',
      verdict: 'Successful',
      value: 0,
      threshold: '≤ 0.05',
      at: '2026-01-05T10:00:00.000Z',
      checks: 3,
    },
  ],
  measurements: [],
  windows: [],
  timeline: [],
  startedAt: '2026-01-05T09:59:50.000Z',
  run: 1,
  ...over,
});

describe('the demo view', () => {
  it('frames the header (what runs, where to look, how to stop) above the same status view as rollout watch', () => {
    const s = status();
    const frame = demoFrame(view(), s);

    expect(frame.slice(0, 8)).toEqual([
      'rollout-orchestrator demo · service http://127.0.0.1:28090 · flag demo-checkout in .rollout/demo/flags.json',
      'load   40 rps of GET http://127.0.0.1:28090/checkout?user=<random id>: 509 ok, 2 5xx, 0 errors, 0 dropped',
      'guards direct scrape of http://127.0.0.1:28090/metrics (no Prometheus binary found; the scrape source, not PromQL)',
      'fault  off (--fault: turns on at step 3)',
      'web ui http://127.0.0.1:28233/namespaces/default/workflows/rollout%2Fdemo-checkout',
      'abort  TEMPORAL_ADDRESS=127.0.0.1:27233 npx rollout abort rollout/demo-checkout --reason "..."',
      'keys   f toggle the fault · q or Ctrl-C quit',
      '',
    ]);
    expect(frame.slice(8)).toEqual(renderStatus(DEMO_ROLLOUT_ID, s));
  });

  it('says how to go on once the rollout ended, by keys in a terminal and by restarting elsewhere', () => {
    const ended = status({ phase: 'RolledBack', exposure: { percent: 0 } });

    expect(demoFrame(view({ fault: true, faultArmed: false }), ended).slice(-1)).toEqual([
      'rollout ended RolledBack: r runs it again, q quits',
    ]);
    expect(demoFrame(view({ keys: false }), ended).slice(-1)).toEqual([
      'rollout ended RolledBack: Ctrl-C quits; the next start runs it again',
    ]);
    expect(demoFrame(view({ keys: false }), ended)).toContain('stop   Ctrl-C');
  });

  it('shows a message instead of the status while there is none', () => {
    expect(demoFrame(view(), 'starting the demo rollout…').slice(-2)).toEqual(['', 'starting the demo rollout…']);
  });

  it('sums a frame up in one log line for a non-TTY', () => {
    expect(demoSummary(view({ fault: true }), status())).toBe(
      'Observing step 2/4 exposure 10% fault on canary-error-ratio=0(Successful)',
    );
    expect(demoSummary(view(), 'status unavailable: timeout')).toBe('status unavailable: timeout');
  });
});
