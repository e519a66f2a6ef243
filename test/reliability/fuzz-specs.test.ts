import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { WorkflowNotFoundError } from '@temporalio/client';
import fc from 'fast-check';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiServer } from '../../src/api/server.js';
import { rolloutIdForFlag } from '../../src/domain/ids.js';
import type { ValidationIssue } from '../../src/domain/validation.js';
import { ValidationError } from '../../src/errors.js';
import { createLogger } from '../../src/logger.js';
import { parseSpecText, validateSpec } from '../../src/spec/load.js';
import { WORKFLOW_TYPE } from '../../workflows/messages.js';
import { uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { baseSpec, malformedSpec, notAnObject, type Malformed } from './spec-arbitraries.js';
import { validSpec } from './valid-spec-arbitrary.js';

const suite = useRolloutSuite();
const TOKEN = `fuzz-${randomUUID()}`;
const RUNS = 520;
const cliPath = new URL('../../dist/src/cli/main.js', import.meta.url).pathname;
const taskQueue = uniqueTaskQueue('fuzz');
const flag = uniqueFlag('fuzz');
/** Every start the fuzzer could have caused lands on this task queue: visibility counts them. */
const startedHere = `WorkflowType = '${WORKFLOW_TYPE}' AND TaskQueue = '${taskQueue}'`;
let app: FastifyInstance;
let base: string;

beforeAll(async () => {
  app = await createApiServer({
    client: suite.client,
    temporalClient: suite.env.client,
    token: TOKEN,
    logger: createLogger({ level: 'silent' }),
    taskQueue,
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await app?.close();
});

const under = (path: string, at: string) => path === at || path.startsWith(`${at}.`) || path.startsWith(`${at}[`);

/** The rejection is path-specific: an issue at or under `m.at` (naming what it must), none at the root of an object. */
function expectPathSpecific(issues: readonly ValidationIssue[], m: Malformed, channel: string): void {
  const where = `${channel}: ${m.family} @ ${m.at} → ${JSON.stringify(issues)}`;
  expect(issues.length, where).toBeGreaterThan(0);
  expect(
    issues.some((i) => under(i.path, m.at) && (m.mentions === undefined || i.message.includes(m.mentions))),
    where,
  ).toBe(true);
  for (const issue of issues) {
    expect(issue.message.trim(), where).not.toBe('');
    if (m.at !== '(root)') expect(issue.path, where).not.toBe('(root)');
    if (m.secret) expect(issue.message, `${where}: echoes the secret`).not.toContain(m.secret);
  }
}

async function post(
  body: string,
  type: string,
): Promise<{ status: number; json: { issues?: ValidationIssue[]; error?: string } }> {
  const res = await fetch(`${base}/rollouts`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': type },
    body,
  });
  return { status: res.status, json: (await res.json()) as { issues?: ValidationIssue[]; error?: string } };
}

const countStarted = async () => (await suite.env.client.workflow.count(startedHere)).count;
const malformed = fc.oneof({ arbitrary: malformedSpec(flag), weight: 30 }, { arbitrary: notAnObject, weight: 1 });

describe('fuzzing rollout specs', () => {
  it(`rejects ${RUNS} malformed specs in validate, the client and the HTTP API, path by path, and starts nothing`, async () => {
    expect(await countStarted()).toBe(0);
    const flags = new Set<string>([flag]);
    const families = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(malformed, fc.boolean(), async (m, asYaml) => {
        families.set(m.family, (families.get(m.family) ?? 0) + 1);
        // the workflow ID a start would take: an inline target's flag, or a catalog target's name
        const target = (m.spec as { target?: unknown } | null)?.target;
        if (typeof target === 'string') flags.add(target);
        else if (target !== null && typeof target === 'object') {
          const { flag: f, name: n, type } = target as { flag?: unknown; name?: unknown; type?: unknown };
          if (typeof f === 'string') flags.add(f);
          else if (type === undefined && typeof n === 'string') flags.add(n);
        }
        const json = JSON.stringify(m.spec);

        const pure = validateSpec(m.spec);
        expect(pure.ok).toBe(false);
        if (!pure.ok) expectPathSpecific(pure.issues, m, 'validateSpec');
        const text = parseSpecText(json);
        expect(text.ok).toBe(false);
        if (!text.ok) expectPathSpecific(text.issues, m, 'parseSpecText');

        const err = await suite.client.start(m.spec, { taskQueue }).then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ValidationError);
        expectPathSpecific((err as ValidationError).issues, m, 'RolloutClient.start');

        const res = await post(json, asYaml ? 'application/yaml' : 'application/json');
        expect(res.status, `${m.family} ${json.slice(0, 200)}`).toBe(400);
        // Fastify's JSON parser refuses a `__proto__` key anywhere (prototype poisoning) before validation runs
        if (!asYaml && json.includes('"__proto__"')) expect(res.json.error).toEqual(expect.any(String));
        else expectPathSpecific(res.json.issues ?? [], m, `POST /rollouts (${asYaml ? 'YAML' : 'JSON'})`);
      }),
      { numRuns: RUNS },
    );
    expect(families.size).toBeGreaterThanOrEqual(12);

    // nothing was started: direct lookups are consistent at once, visibility after its short lag
    // (a catalog name such as `checkout` is also used by other test files on the shared server: a rollout of theirs
    // with that ID runs on their task queue, never on this one)
    for (const f of flags) {
      const found = await suite.client
        .handle(rolloutIdForFlag(f))
        .describe()
        .catch((e: unknown) => e);
      if (found instanceof WorkflowNotFoundError) continue;
      expect(found, f).toHaveProperty('taskQueue');
      expect((found as { taskQueue: string }).taskQueue, f).not.toBe(taskQueue);
    }
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await countStarted()).toBe(0);
    // …and the same query does see a start on this queue, so the zero above means something
    const { workflowId } = await suite.client.start(baseSpec(uniqueFlag('fuzz-control')), { taskQueue });
    await waitFor(async () => (await countStarted()) === 1, 10_000, 'visibility shows the control start');
    await suite.client.handle(workflowId).terminate('fuzz control');
  });

  it('the built CLI `rollout validate` exits 2 and prints the path, for a malformed spec of each of 9 kinds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'fuzz-cli-'));
    const kinds = [
      'credential in spec',
      'bad reference',
      'unknown key',
      'wrong type',
      'bad duration',
      'bad URL',
      'missing required',
      'bad guard',
      'not an object',
    ];
    const byFamily = new Map<string, Malformed>();
    for (const m of fc.sample(malformed, { numRuns: 600, seed: 42 }))
      if (kinds.includes(m.family) && !byFamily.has(m.family)) byFamily.set(m.family, m);
    expect([...byFamily.keys()].sort()).toEqual([...kinds].sort());
    const run = promisify(execFile);
    // one process at a time: nine node processes at once starve each other on a busy two-core machine
    for (const [i, m] of [...byFamily.values()].entries()) {
      {
        const file = join(dir, `spec-${i}.json`);
        await writeFile(file, JSON.stringify(m.spec));
        const out = await run(process.execPath, [cliPath, 'validate', file], { timeout: 120_000 }).then(
          () => ({ code: 0, stderr: '' }),
          (e: { code: number; stderr: string }) => e,
        );
        expect(out.code, `${m.family}: ${out.stderr}`).toBe(2);
        const lines = out.stderr.split('\n').slice(1).filter(Boolean);
        expect(
          lines.some((l) => under(l.split(': ')[0]!, m.at)),
          `${m.family} @ ${m.at}: ${out.stderr}`,
        ).toBe(true);
        if (m.secret) expect(out.stderr).not.toContain(m.secret);
      }
    }
  }, 300_000);

  it('accepts every randomly generated valid spec (the fuzzer does not just reject everything)', () => {
    fc.assert(
      fc.property(validSpec, (spec) => {
        const result = validateSpec(spec);
        expect(result.ok, JSON.stringify(result.ok ? [] : result.issues)).toBe(true);
        expect(parseSpecText(JSON.stringify(spec)).ok).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
