/** One series' value at one instant; `value: null` means the series exists but has no data (NaN, empty). */
export interface MetricPoint {
  labels: Record<string, string>;
  value: number | null;
}

/** One series' values over a time range (the samples rank tests compare). */
export interface MetricSamples {
  labels: Record<string, string>;
  values: number[];
}

export interface QueryContext {
  /** 0-based index of this check within the observation window (the synthetic source scripts by it). */
  check: number;
  /** Index of the rollout step being observed (the synthetic source can script per step). */
  step?: number;
  /** Evaluation time, epoch ms (default: now). */
  atMs?: number;
  signal?: AbortSignal;
}

export interface RangeContext extends QueryContext {
  startMs: number;
  endMs: number;
  stepMs: number;
}

/**
 * Where guard metrics come from. An empty array means "no series matched" (no data); adapters throw a
 * {@link SourceError} for anything that is not an answer, never a silent empty result.
 */
export interface MetricSource {
  readonly describe: string;
  instant(expression: string, ctx: QueryContext): Promise<MetricPoint[]>;
  range(expression: string, ctx: RangeContext): Promise<MetricSamples[]>;
  /** A webhook source's one request (status-code guards); other sources have none. */
  call?(req: WebhookCall): Promise<WebhookAnswer>;
}

/** One request of a status-code guard: the rollout's context goes in the body of a POST. */
export interface WebhookCall {
  method: 'GET' | 'POST';
  body: unknown;
  signal?: AbortSignal;
}

/** A webhook's answer: its status and the start of its body (credentials removed), for the guard's detail. */
export interface WebhookAnswer {
  status: number;
  snippet: string;
}

export class SourceError extends Error {
  override readonly name = 'SourceError';
  constructor(
    message: string,
    readonly code: 'UNAVAILABLE' | 'BAD_QUERY' | 'UNPARSABLE' | 'CONFIG',
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}
