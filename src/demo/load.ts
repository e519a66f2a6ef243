export interface LoadOptions {
  /** Base URL of the demo service; requests go to `${url}/checkout?user=<id>`. */
  url: string;
  /** Requests per second, spread evenly (default 40). */
  rps?: number;
  /** Requests in flight at most; beyond it a tick's requests are dropped and counted (default 200). */
  maxInFlight?: number;
  /** How many distinct users the random ids come from (default 100 000). */
  users?: number;
  random?: () => number;
}

/** Counts since the load started. */
export interface LoadStats {
  sent: number;
  ok: number;
  /** Answered with a 5xx. */
  failed: number;
  /** Not answered at all (connection refused, aborted on stop). */
  errors: number;
  /** Skipped because `maxInFlight` requests were still waiting. */
  dropped: number;
}

/** A running load generator. */
export interface Load {
  stats(): LoadStats;
  /** Stops sending, aborts what is in flight and resolves once every request has settled. */
  stop(): Promise<void>;
}

const TICK_MS = 25;

/**
 * Sends real HTTP requests to the demo service at a steady rate, each for a random user id (the flag's targeting
 * key, so the rollout's fractional split shows up in the traffic). Bounded: never more than `maxInFlight` open
 * requests, so a slow (faulty) service cannot make the generator pile up sockets.
 */
export function startLoad(options: LoadOptions): Load {
  const rps = options.rps ?? 40;
  const maxInFlight = options.maxInFlight ?? 200;
  const users = options.users ?? 100_000;
  const random = options.random ?? Math.random;
  const stats: LoadStats = { sent: 0, ok: 0, failed: 0, errors: 0, dropped: 0 };
  const stopping = new AbortController();
  const inFlight = new Set<Promise<void>>();

  async function one(): Promise<void> {
    const user = `user-${Math.floor(random() * users)}`;
    stats.sent += 1;
    try {
      const response = await fetch(`${options.url}/checkout?user=${encodeURIComponent(user)}`, {
        signal: AbortSignal.any([stopping.signal, AbortSignal.timeout(10_000)]),
      });
      await response.arrayBuffer();
      if (response.status >= 500) stats.failed += 1;
      else stats.ok += 1;
    } catch {
      stats.errors += 1;
    }
  }

  // Owed requests accumulate fractionally, so 40 rps on a 25 ms tick is exactly one request per tick.
  let owed = 0;
  let last = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    owed += (rps * (now - last)) / 1000;
    last = now;
    const due = Math.floor(owed);
    owed -= due;
    for (let i = 0; i < due; i++) {
      if (inFlight.size >= maxInFlight) {
        stats.dropped += due - i;
        break;
      }
      const request = one().finally(() => inFlight.delete(request));
      inFlight.add(request);
    }
  }, TICK_MS);

  return {
    stats: () => ({ ...stats }),
    async stop() {
      clearInterval(timer);
      stopping.abort();
      await Promise.allSettled([...inFlight]);
    },
  };
}
