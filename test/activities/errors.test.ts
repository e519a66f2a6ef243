import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApplicationFailure } from '@temporalio/common';
import { afterEach, describe, expect, it } from 'vitest';
import { redacting, toFailure } from '../../activities/errors.js';
import { createActivities } from '../../activities/index.js';
import { TargetError } from '../../activities/targets/port.js';
import { catalogOf } from '../../src/catalog/load.js';
import { REDACTED } from '../../src/catalog/secrets.js';
import { createLogger } from '../../src/logger.js';
import { catalogSecrets } from './catalog-secrets.js';

const SECRET = 'flag-service-s3cret';

/** The worker's redactor after an activity has read the secret (as every call out does). */
async function redactor() {
  const { store } = catalogSecrets({ 'flags-token': { env: 'FLAGS_TOKEN' } }, { FLAGS_TOKEN: SECRET });
  await store.get('flags-token');
  return store;
}

const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected the activity to fail'),
    (e: unknown) => e as ApplicationFailure,
  );

describe('redacting: every activity’s result and failure passes through the secret redactor', () => {
  it('redacts a failure’s message and keeps its type and retryability, dropping the unredacted cause', async () => {
    const activities = redacting(await redactor(), {
      async applyExposure() {
        throw new TargetError(`PUT /flags answered 401: token ${SECRET} is expired`, 'REJECTED', false);
      },
      async readExposure() {
        throw new TargetError(`GET /flags answered 503: upstream saw ${SECRET}`, 'UNAVAILABLE', true);
      },
    });

    const rejected = await failureOf(activities.applyExposure());
    expect(rejected).toBeInstanceOf(ApplicationFailure);
    expect(rejected).toMatchObject({
      message: `PUT /flags answered 401: token ${REDACTED} is expired`,
      type: 'REJECTED',
      nonRetryable: true,
    });
    expect(rejected.cause).toBeUndefined();

    const unavailable = await failureOf(activities.readExposure());
    expect(unavailable).toMatchObject({
      message: `GET /flags answered 503: upstream saw ${REDACTED}`,
      type: 'UNAVAILABLE',
      nonRetryable: false,
    });
    expect(JSON.stringify(unavailable)).not.toContain(SECRET);
  });

  it('redacts an application failure’s details and a plain error’s message, which stays retryable', async () => {
    const activities = redacting(await redactor(), {
      async notify() {
        throw ApplicationFailure.create({
          message: `webhook refused ${SECRET}`,
          type: 'WEBHOOK',
          nonRetryable: true,
          details: [{ echoed: `Bearer ${SECRET}`, status: 403 }],
        });
      },
      async observeWindow() {
        throw new Error(`socket hang up after sending ${SECRET}`);
      },
    });

    const webhook = await failureOf(activities.notify());
    expect(webhook).toMatchObject({ message: `webhook refused ${REDACTED}`, type: 'WEBHOOK', nonRetryable: true });
    expect(webhook.details).toEqual([{ echoed: `Bearer ${REDACTED}`, status: 403 }]);

    const plain = await failureOf(activities.observeWindow());
    expect(plain).toMatchObject({
      message: `socket hang up after sending ${REDACTED}`,
      type: 'Error',
      nonRetryable: false,
    });
  });

  it('passes arguments through and redacts every string in the result', async () => {
    const activities = redacting(await redactor(), {
      async observeWindow(input: { guard: string }) {
        return { guard: input.guard, reasons: [`source echoed ${SECRET}`], value: 0.02 };
      },
    });
    expect(await activities.observeWindow({ guard: 'error-rate' })).toEqual({
      guard: 'error-rate',
      reasons: [`source echoed ${REDACTED}`],
      value: 0.02,
    });
  });

  it('leaves what holds no secret exactly as it was', async () => {
    const result = { percent: 5, lastKey: 'k' };
    const activities = redacting(await redactor(), {
      async readExposure() {
        return result;
      },
      async applyExposure() {
        throw new TargetError('flag "f" has no variant "on"', 'CONFIG', false);
      },
    });
    expect(await activities.readExposure()).toEqual(result);
    expect(await failureOf(activities.applyExposure())).toMatchObject({
      message: 'flag "f" has no variant "on"',
      type: 'CONFIG',
      nonRetryable: true,
    });
  });
});

describe('toFailure: adapter errors as Temporal failures', () => {
  it('keeps a target error’s code as the type and its retryability; anything else is retryable', () => {
    expect(toFailure(new TargetError('no', 'REFUSED', false))).toMatchObject({ type: 'REFUSED', nonRetryable: true });
    expect(toFailure(new TargetError('later', 'UNAVAILABLE', true))).toMatchObject({
      type: 'UNAVAILABLE',
      nonRetryable: false,
    });
    expect(toFailure(new RangeError('odd'))).toMatchObject({ message: 'odd', type: 'RangeError' });
    const failure = ApplicationFailure.nonRetryable('as is', 'Mine');
    expect(toFailure(failure)).toBe(failure);
  });
});

describe('the worker’s activities redact with the store that read the secrets', () => {
  let server: Server | undefined;
  afterEach(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  it('a flag service echoing the basic-auth password in its error does not get it into the failure', async () => {
    const PASSWORD = 'basic-auth-passw0rd';
    server = createServer((req, res) => {
      const [user, password] = Buffer.from(String(req.headers.authorization).replace(/^Basic /, ''), 'base64')
        .toString()
        .split(':');
      res
        .writeHead(503, { 'content-type': 'application/json' })
        .end(JSON.stringify({ error: `maintenance; you are ${user} with password ${password}` }));
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/flags`;
    const catalog = catalogOf({ secrets: { 'flags-password': { env: 'FLAGS_PASSWORD' } } });
    const activities = createActivities({
      logger: createLogger({ level: 'silent' }),
      catalog,
      env: { FLAGS_PASSWORD: PASSWORD },
    });

    const failure = await failureOf(
      activities.readExposure({
        type: 'http',
        url,
        method: 'PUT',
        timeoutMs: 2_000,
        flag: 'new-ranker',
        variant: 'on',
        baselineVariant: 'off',
        auth: { basic: { username: 'deploy', password: 'flags-password' } },
      }),
    );
    expect(failure).toBeInstanceOf(ApplicationFailure);
    expect(failure).toMatchObject({ type: 'UNAVAILABLE', nonRetryable: false });
    expect(failure.message).toContain(`you are deploy with password ${REDACTED}`);
    expect(JSON.stringify(failure)).not.toContain(PASSWORD);
  });
});
