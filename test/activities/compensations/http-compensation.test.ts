import { describe, expect, it } from 'vitest';
import { callHttpCompensation } from '../../../activities/compensations/http-compensation.js';
import { noSecrets } from '../../../activities/credentials.js';
import { TargetError } from '../../../activities/targets/port.js';
import type { Compensation } from '../../../src/domain/spec.schema.js';
import { httpRecorder } from '../../helpers/http-recorder.js';
import { catalogSecrets } from '../catalog-secrets.js';

const hook = (url: string, extra: Partial<Compensation['http']> = {}): Compensation => ({
  name: 'drain',
  http: { url, method: 'POST', timeoutMs: 2_000, ...extra },
});

const HOOK_TOKEN = 'drain-hook-s3cret';
/** The catalog's `drain-token`, read from the worker's DRAIN_TOKEN. */
const secrets = (env: NodeJS.ProcessEnv = { DRAIN_TOKEN: HOOK_TOKEN }) =>
  catalogSecrets({ 'drain-token': { env: 'DRAIN_TOKEN' }, 'ops-key': { env: 'OPS_KEY' } }, env).secret;

describe('http compensation', () => {
  it('sends the idempotency key and succeeds on 2xx', async () => {
    const rec = await httpRecorder();
    try {
      await expect(callHttpCompensation(hook(`${rec.url}/drain`), 'run-1:rollback:0', noSecrets)).resolves.toEqual({
        status: 200,
      });
      expect(rec.requests[0]).toMatchObject({ method: 'POST', path: '/drain' });
      expect(rec.requests[0]!.headers['idempotency-key']).toBe('run-1:rollback:0');
      expect(rec.requests[0]!.headers.authorization).toBeUndefined();
    } finally {
      await rec.close();
    }
  });

  it('sends the catalog hook’s bearer token and headers, plain and from secrets, read at call time', async () => {
    const rec = await httpRecorder();
    try {
      const catalogHook = hook(`${rec.url}/drain`, {
        auth: { bearer: 'drain-token' },
        headers: { 'X-Scope-OrgID': 'payments', 'X-Api-Key': { secret: 'ops-key' } },
      });
      await callHttpCompensation(catalogHook, 'k', secrets({ DRAIN_TOKEN: HOOK_TOKEN, OPS_KEY: 'ops-api-key' }));
      expect(rec.requests[0]!.headers).toMatchObject({
        authorization: `Bearer ${HOOK_TOKEN}`,
        'x-scope-orgid': 'payments',
        'x-api-key': 'ops-api-key',
        'idempotency-key': 'k',
      });
    } finally {
      await rec.close();
    }
  });

  it('fails retryably with CONFIG naming an unset secret, calling nothing and printing no value', async () => {
    const rec = await httpRecorder();
    try {
      const failure = await callHttpCompensation(
        hook(`${rec.url}/drain`, { auth: { bearer: 'drain-token' } }),
        'k',
        secrets({ OTHER: HOOK_TOKEN }),
      ).catch((e: unknown) => e);
      expect(failure).toBeInstanceOf(TargetError);
      // every compensation failure is retried: rollback waits for the operator to set the secret
      expect(failure).toMatchObject({ code: 'CONFIG', retryable: true });
      expect((failure as Error).message).toContain('secret "drain-token" is not set');
      expect((failure as Error).message).not.toContain(HOOK_TOKEN);
      expect(rec.requests).toEqual([]);
    } finally {
      await rec.close();
    }
  });

  it('never repeats the token when the hook echoes the request headers in its error', async () => {
    const rec = await httpRecorder();
    rec.respond = (req) => ({ status: 500, body: { error: 'drain failed', headers: req.headers } });
    try {
      const failure = (await callHttpCompensation(
        hook(`${rec.url}/drain`, { auth: { bearer: 'drain-token' } }),
        'k',
        secrets(),
      ).catch((e: unknown) => e)) as TargetError;
      expect(failure).toMatchObject({ code: 'UNAVAILABLE', retryable: true });
      expect(failure.message).toContain('answered 500');
      expect(failure.message).toContain('[redacted]');
      expect(failure.message).not.toContain(HOOK_TOKEN);
    } finally {
      await rec.close();
    }
  });

  it('never quotes a URL’s credentials in its failure (unreachable or answering an error)', async () => {
    const unreachable = await callHttpCompensation(
      hook('http://ops:s3cret-pw@127.0.0.1:1/drain'),
      'k',
      noSecrets,
    ).catch((e: unknown) => e);
    expect(unreachable).toBeInstanceOf(TargetError);
    expect((unreachable as TargetError).message).toMatch(
      /^compensation POST http:\/\/\*\*\*@127\.0\.0\.1:1\/drain failed/,
    );
    expect((unreachable as TargetError).message).not.toContain('s3cret-pw');
    expect((unreachable as TargetError).cause).toBeUndefined();
  });
});
