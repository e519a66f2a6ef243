import { isTerminal } from '../domain/rollout-state.js';
import { renderStatus } from '../view/render.js';
import { workflowWebUiUrl } from '../temporal/web-ui.js';
import type { RolloutStatus } from '../../workflows/messages.js';
import { DEMO_FLAG, DEMO_ROLLOUT_ID, FAULT_AT_STEP, type DemoMetrics } from './demo-spec.js';
import type { LoadStats } from './load.js';

/** Everything the demo's frame shows besides the rollout status. */
export interface DemoViewState {
  serviceUrl: string;
  metrics: DemoMetrics;
  /** The Prometheus server behind the proxy, when one runs. */
  prometheusUrl: string | undefined;
  rps: number;
  load: LoadStats;
  fault: boolean;
  /** `--fault` still waiting for the rollout to reach step 1. */
  faultArmed: boolean;
  uiUrl: string | undefined;
  namespace: string;
  /** The Temporal gRPC address, for the abort command when it is not the default one. */
  address: string;
  keys: boolean;
}

/** The lines above the rollout status: what runs, where to look, how to intervene. */
export function demoHeader(s: DemoViewState): string[] {
  const metrics =
    s.metrics.kind === 'prometheus'
      ? `Prometheus ${s.prometheusUrl ?? '?'} (scraping every 1 s; guards query it via ${s.metrics.url})`
      : `direct scrape of ${s.metrics.url} (no Prometheus binary found; the scrape source, not PromQL)`;
  const env = s.address === '127.0.0.1:7233' ? '' : `TEMPORAL_ADDRESS=${s.address} `;
  const web = s.uiUrl ? workflowWebUiUrl(s.uiUrl, s.namespace, DEMO_ROLLOUT_ID) : undefined;
  const fault = s.fault
    ? `ON (new variant +300 ms, 30% 5xx)`
    : s.faultArmed
      ? `off (--fault: turns on at step ${FAULT_AT_STEP + 1})`
      : 'off';
  return [
    `rollout-orchestrator demo · service ${s.serviceUrl} · flag ${DEMO_FLAG.key} in ${DEMO_FLAG.path}`,
    `load   ${s.rps} rps of GET ${s.serviceUrl}/checkout?user=<random id>${s.load.sent ? `: ${s.load.ok} ok, ${s.load.failed} 5xx, ${s.load.errors} errors, ${s.load.dropped} dropped` : ''}`,
    `guards ${metrics}`,
    `fault  ${fault}`,
    ...(web ? [`web ui ${web}`] : []),
    `abort  ${env}npx rollout abort ${DEMO_ROLLOUT_ID} --reason "..."`,
    s.keys ? 'keys   f toggle the fault · q or Ctrl-C quit' : 'stop   Ctrl-C',
  ];
}

/** The full frame: header, then the same view as `rollout watch`, then what to do once the rollout ended. */
export function demoFrame(s: DemoViewState, status: (RolloutStatus & { guardsAsOf?: string }) | string): string[] {
  if (typeof status === 'string') return [...demoHeader(s), '', status];
  const next = s.keys ? 'r runs it again, q quits' : 'Ctrl-C quits; the next start runs it again';
  const ended = isTerminal(status.phase) ? [`rollout ended ${status.phase}: ${next}`] : [];
  return [...demoHeader(s), '', ...renderStatus(DEMO_ROLLOUT_ID, status), ...ended];
}

/** One line per change for a non-TTY (CI logs), like `rollout watch` prints there. */
export function demoSummary(s: DemoViewState, status: RolloutStatus | string): string {
  if (typeof status === 'string') return status;
  const guards = status.guards
    .map((g) => ` ${g.name}=${g.value === null ? 'no data' : Number(g.value.toPrecision(3))}(${g.verdict})`)
    .join('');
  return `${status.phase} step ${Math.min(status.step + 1, status.totalSteps)}/${status.totalSteps} exposure ${status.exposure.percent}% fault ${s.fault ? 'on' : 'off'}${guards}`;
}
