import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FlagdProvider } from '@openfeature/flagd-provider';
import { NOOP_PROVIDER, OpenFeature } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoService, type DemoService } from '../../src/demo/demo-service.js';
import type { RolloutSpecInput } from '../../src/domain/spec.schema.js';
import { startFlagd, type RunningFlagd } from '../helpers/flagd-daemon.js';
import { flagdSpec, rolloutHarness, uniqueFlag, waitFor, type RolloutHarness } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';

const suite = useRolloutSuite();

const NEW = 'new';
const OLD = 'old';
/** What a provider answers while flagd has not picked the flag up yet: neither variant, so never mistaken for one. */
const NOT_FOUND = '(flag not found)';
/** Targeting keys evaluated per look; at 10 % one standard deviation is 0.7 points, at 50 % 1.1 points. */
const KEYS = Array.from({ length: 2_000 }, (_, i) => `user-${i}`);
const TOLERANCE_POINTS = 5;
/** How long a provider may take to see what flagd picked up (its file poll is 1 s; the machine is busy). */
const CONVERGE_MS = 60_000;
const BATCH = 50;

/** Something that answers "which variant does this user get": a provider, or the demo service over HTTP. */
interface Evaluator {
  name: string;
  variantFor(key: string): Promise<string>;
}

/** A flagd spec over `flags.json` whose variants are the strings "new" and "old" (the demo service's kind). */
const stringFlagSpec = (flag: string, steps: RolloutSpecInput['steps']): RolloutSpecInput => ({
  ...flagdSpec(flag, steps),
  target: { type: 'flagd', path: 'flags.json', flag, variant: NEW, baselineVariant: OLD },
});

async function assignments(evaluator: Evaluator): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < KEYS.length; i += BATCH)
    out.push(...(await Promise.all(KEYS.slice(i, i + BATCH).map((key) => evaluator.variantFor(key)))));
  return out;
}

const percentNew = (values: string[]) => (100 * values.filter((v) => v === NEW).length) / values.length;

/**
 * Evaluates every key until `accept` holds for two sweeps in a row that agree key by key (flagd and the provider
 * have picked the write up), and returns that assignment; fails after CONVERGE_MS naming the evaluator, what it
 * still serves, and flagd's recent log. One sweep is not enough: flagd can pick a write up in the middle of it, and
 * such a mix of two states (e.g. the first keys still "not found", the rest at 10 %) can look like the goal's share;
 * a stable assignment cannot.
 */
async function converged(
  evaluator: Evaluator,
  what: string,
  accept: (values: string[]) => boolean,
  flagd: RunningFlagd,
): Promise<string[]> {
  const deadline = Date.now() + CONVERGE_MS;
  let previous: string[] | undefined;
  for (;;) {
    let last: string;
    try {
      const values = await assignments(evaluator);
      const ok = accept(values);
      if (ok && previous && sameValues(values, previous)) return values;
      previous = ok ? values : undefined;
      const notFound = values.filter((v) => v === NOT_FOUND).length;
      last =
        `it serves ${percentNew(values).toFixed(1)} % "${NEW}"` +
        (notFound ? ` (flag not found for ${notFound} keys)` : '') +
        (ok ? ', not yet twice in a row' : '');
    } catch (err) {
      previous = undefined;
      last = `its last evaluation failed: ${(err as Error).message}`;
    }
    if (Date.now() > deadline)
      throw new Error(
        `${evaluator.name} did not converge to ${what} within ${CONVERGE_MS / 1000} s: ${last}\n` +
          `flagd log:\n${flagd.log()}`,
      );
    await sleep(200);
  }
}

/** Waits until `evaluator` serves every key one of the two variants, ≈ `percent` % (exactly, at 0 and 100) the new one. */
const serving = (evaluator: Evaluator, percent: number, flagd: RunningFlagd) =>
  converged(
    evaluator,
    `${percent} %`,
    (values) => {
      if (!values.every((v) => v === NEW || v === OLD)) return false;
      const share = percentNew(values);
      return percent === 0 || percent === 100 ? share === percent : Math.abs(share - percent) <= TOLERANCE_POINTS;
    },
    flagd,
  );

describe('a real flagd daemon serving the file the flagd target writes (official OpenFeature providers)', () => {
  let h: RolloutHarness;
  let flagd: RunningFlagd;
  const providers: { domain: string; provider: FlagdProvider }[] = [];
  let rpc: (flag: string) => Evaluator;
  let sync: (flag: string) => Evaluator;

  beforeAll(async () => {
    h = await rolloutHarness(suite.env, suite.bundle);
    // flagd watches the file from its start; the target then adds each flag and keeps the rest of the file
    const file = join(h.dir, 'flags.json');
    await writeFile(file, `${JSON.stringify({ $schema: 'https://flagd.dev/schema/v0/flags.json', flags: {} })}\n`);
    flagd = await startFlagd({ file });

    const connect = async (name: string, provider: FlagdProvider) => {
      const domain = `flagd-daemon-test:${name}`;
      providers.push({ domain, provider });
      await OpenFeature.setProviderAndWait(domain, provider);
      const client = OpenFeature.getClient(domain);
      return (flag: string): Evaluator => ({
        name: `the ${name} provider`,
        variantFor: async (key) => {
          const details = await client.getStringDetails(flag, OLD, { targetingKey: key });
          // not found: flagd has not picked the first write up yet (not an "old"); any other error is not an answer
          if (details.errorCode === 'FLAG_NOT_FOUND') return NOT_FOUND;
          if (details.errorCode) throw new Error(`${details.errorCode}: ${details.errorMessage ?? ''}`);
          return details.value;
        },
      });
    };
    const { host, port, syncPort } = flagd;
    // a generous deadline: the machine is busy, and a timed-out call would read as the default variant
    rpc = await connect('rpc', new FlagdProvider({ resolverType: 'rpc', host, port, deadlineMs: 5_000 }));
    sync = await connect(
      'in-process (sync port)',
      new FlagdProvider({ resolverType: 'in-process', host, port: syncPort }),
    );
  });

  afterAll(async () => {
    for (const { domain, provider } of providers) {
      await OpenFeature.setProviderAndWait(domain, NOOP_PROVIDER);
      await provider.onClose();
    }
    await flagd?.stop();
    await h?.stop();
  });

  /**
   * Two demo services for `flag`: one given the daemon as an option (RPC), one finding it through FLAGD_* variables
   * (in-process sync). Their flag file does not exist: whatever they serve comes from the daemon.
   */
  async function demoServices(flag: string): Promise<{ evaluators: Evaluator[]; stop: () => Promise<void> }> {
    const demoFlag = { file: join(h.dir, 'never-read.json'), key: flag, variant: NEW, baselineVariant: OLD };
    const services: DemoService[] = [];
    const stop = async () => {
      for (const s of services) await s.stop();
    };
    try {
      services.push(
        await startDemoService({
          port: 0,
          flag: demoFlag,
          random: () => 0.5,
          flagd: { resolver: 'rpc', host: flagd.host, port: flagd.port },
        }),
      );
      services.push(
        await startDemoService({
          port: 0,
          flag: demoFlag,
          random: () => 0.5,
          env: { FLAGD_HOST: flagd.host, FLAGD_RESOLVER: 'in-process', FLAGD_SYNC_PORT: String(flagd.syncPort) },
        }),
      );
    } catch (err) {
      await stop();
      throw err;
    }
    const names = ['the demo service (flagd option, rpc)', 'the demo service (FLAGD_* env, in-process)'];
    const evaluators = services.map((s, i): Evaluator => ({
      name: names[i]!,
      variantFor: async (key) => {
        const response = await fetch(`${s.url}/checkout?user=${encodeURIComponent(key)}`);
        if (!response.ok) throw new Error(`GET /checkout answered ${response.status}`);
        return ((await response.json()) as { variant: string }).variant;
      },
    }));
    return { evaluators, stop };
  }

  /** Every evaluator serves ≈ `percent`, and each user gets the same variant from all of them (flagd's bucketing). */
  async function everyoneServes(flag: string, percent: number, demos: Evaluator[]): Promise<string[]> {
    const byRpc = await serving(rpc(flag), percent, flagd);
    const bySync = await serving(sync(flag), percent, flagd);
    // flagd's Go evaluator (rpc) and flagd-core's (in-process) bucket each user identically
    expect(bySync).toEqual(byRpc);
    for (const demo of demos) {
      const byDemo = await converged(demo, `the rpc provider's ${percent} %`, (v) => sameValues(v, byRpc), flagd);
      expect(byDemo).toEqual(byRpc);
    }
    return byRpc;
  }

  it('a rollout 10 % → 50 % → 100 %: both providers and the demo service follow flagd at every step', async () => {
    const flag = uniqueFlag('daemon');
    const demo = await demoServices(flag);
    try {
      const { workflowId: id } = await suite.client.start(
        stringFlagSpec(flag, [{ exposure: 10, observe: '1h' }, { exposure: 50, observe: '1h' }, { exposure: 100 }]),
        { taskQueue: h.taskQueue },
      );
      const served: string[][] = [];
      for (const [step, percent] of [10, 50].entries()) {
        await waitFor(async () => {
          const s = await suite.client.status(id);
          return s.step === step && s.phase === 'Observing';
        }, 30_000);
        served.push(await everyoneServes(flag, percent, demo.evaluators));
        // the operator ends the window once the exposure has been seen, rather than the test racing a timer
        await suite.client.promote(id, { actor: 'flagd-daemon-test' });
      }
      const result = await suite.client.result(id);
      expect(result.phase).toBe('Completed');
      await everyoneServes(flag, 100, demo.evaluators);

      // raising the exposure only adds users: everyone on "new" at 10 % still is at 50 %
      const [at10, at50] = served as [string[], string[]];
      const dropped = KEYS.filter((_, i) => at10[i] === NEW && at50[i] !== NEW);
      expect(dropped).toEqual([]);
    } finally {
      await demo.stop();
    }
  }, 300_000);

  it('an aborted rollout: after the rollback flagd serves the baseline to everyone, through every provider', async () => {
    const flag = uniqueFlag('daemon-abort');
    const demo = await demoServices(flag);
    try {
      const { workflowId: id } = await suite.client.start(
        stringFlagSpec(flag, [{ exposure: 30, observe: '1h' }, { exposure: 100 }]),
        { taskQueue: h.taskQueue },
      );
      await waitFor(async () => (await suite.client.status(id)).phase === 'Observing', 30_000);
      await everyoneServes(flag, 30, demo.evaluators);

      await suite.client.abort(id, { reason: 'checkout errors up', actor: 'oncall' });
      const result = await suite.client.result(id);
      expect(result.phase).toBe('Aborted');
      const after = await everyoneServes(flag, 0, demo.evaluators);
      expect(after.every((v) => v === OLD)).toBe(true);
    } finally {
      await demo.stop();
    }
  }, 300_000);
});

const sameValues = (a: string[], b: string[]) => a.length === b.length && a.every((v, i) => v === b[i]);
