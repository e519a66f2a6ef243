import { randomBytes, randomUUID } from 'node:crypto';
import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, inject, it } from 'vitest';
import { RolloutClient } from '../../src/client/rollout-client.js';
import { createLogger } from '../../src/logger.js';
import {
  AesGcmPayloadCodec,
  dataConverterFromEnv,
  ENCRYPTED_ENCODING,
  KEY_ID_METADATA,
  parsePayloadKey,
  payloadCodecFromEnv,
  PayloadCodecError,
  PAYLOAD_KEY_ENV,
} from '../../src/temporal/codec.js';
import { connectClient, loadTemporalSettings } from '../../src/temporal/connection.js';
import { createRolloutWorker } from '../../src/worker/worker.js';
import { uniqueFlag, waitFor } from '../helpers/rollout-env.js';
import { useRolloutSuite } from '../helpers/suite.js';
import { uniqueTaskQueue } from '../helpers/temporal.js';
import { historyPayloads, historyText } from './history-text.js';

const suite = useRolloutSuite();
const newKey = () => randomBytes(32).toString('base64');
const text = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? new Uint8Array()).toString('utf8');
const json = (value: unknown): Payload => defaultPayloadConverter.toPayload(value);

describe('AES-256-GCM payload codec (unit)', () => {
  const codec = new AesGcmPayloadCodec(parsePayloadKey(newKey(), 'test key'));

  it('round-trips payloads of every shape and hides both value and encoding', async () => {
    const payloads = [
      json({ spec: { description: 'plain-marker' } }),
      json('x'.repeat(100_000)),
      json(null),
      { metadata: { encoding: new TextEncoder().encode('binary/plain') }, data: new Uint8Array() },
    ];
    const encoded = await codec.encode(payloads);
    for (const p of encoded) {
      expect(text(p.metadata?.encoding)).toBe(ENCRYPTED_ENCODING);
      expect(text(p.metadata?.[KEY_ID_METADATA])).toBe(codec.keyId);
      expect(text(p.data)).not.toMatch(/plain-marker|json\/plain|binary\/plain/);
    }
    expect(await codec.decode(encoded)).toEqual(payloads);
    const [again] = await codec.encode([payloads[0]!]);
    expect(Buffer.from(again!.data!).equals(Buffer.from(encoded[0]!.data!))).toBe(false); // a fresh IV every time
  });

  it('rejects any change to ciphertext, IV, tag or key ID, and a payload too short to hold them', async () => {
    const [sealed] = await codec.encode([json({ exposure: 25 })]);
    const flip = (index: number): Payload => {
      const data = Buffer.from(sealed!.data!);
      data[index < 0 ? data.length + index : index]! ^= 0x01;
      return { ...sealed, data };
    };
    for (const tampered of [flip(0), flip(13), flip(-1), flip(-17)]) {
      await expect(codec.decode([tampered])).rejects.toThrow(/failed authentication/);
    }
    const other = new AesGcmPayloadCodec(parsePayloadKey(newKey(), 'other'), [parsePayloadKey(newKey(), 'old')]);
    const relabelled = {
      ...sealed,
      metadata: { ...sealed!.metadata, [KEY_ID_METADATA]: new TextEncoder().encode(other.keyId) },
    };
    await expect(other.decode([relabelled])).rejects.toThrow(/failed authentication/);
    await expect(other.decode([sealed!])).rejects.toThrow(
      new RegExp(`encrypted with key ${codec.keyId}, which is not configured`),
    );
    await expect(codec.decode([{ ...sealed, data: sealed!.data!.slice(0, 20) }])).rejects.toBeInstanceOf(
      PayloadCodecError,
    );
  });

  it('rotates keys: the new key encrypts, the previous one still decrypts; plaintext payloads pass through', async () => {
    const oldKey = newKey();
    const before = payloadCodecFromEnv({ [PAYLOAD_KEY_ENV]: oldKey })!;
    const after = payloadCodecFromEnv({ [PAYLOAD_KEY_ENV]: newKey(), ROLLOUT_PAYLOAD_PREVIOUS_KEYS: ` ${oldKey} ` })!;
    const written = await before.encode([json('written before rotation')]);
    expect(await after.decode(written)).toEqual([json('written before rotation')]);
    const [fresh] = await after.encode([json(1)]);
    expect(text(fresh!.metadata?.[KEY_ID_METADATA])).toBe(after.keyId);
    expect(after.keyId).not.toBe(before.keyId);
    expect(await after.decode([json('never encrypted')])).toEqual([json('never encrypted')]);
  });

  it('reads the key from ROLLOUT_PAYLOAD_KEY; a bad value names the variable, never the value', async () => {
    expect(payloadCodecFromEnv({})).toBeUndefined();
    expect(dataConverterFromEnv({})).toBeUndefined();
    expect(dataConverterFromEnv({ [PAYLOAD_KEY_ENV]: newKey() })?.payloadCodecs?.[0]).toBeInstanceOf(
      AesGcmPayloadCodec,
    );
    const bad = ['hunter2-not-base64!', Buffer.alloc(16, 7).toString('base64'), randomBytes(33).toString('base64')];
    for (const value of bad) {
      const err = (() => {
        try {
          payloadCodecFromEnv({ [PAYLOAD_KEY_ENV]: value });
        } catch (e) {
          return e as Error;
        }
        return undefined;
      })();
      expect(err?.message).toMatch(/^ROLLOUT_PAYLOAD_KEY must be the base64 of exactly 32 random bytes/);
      expect(err?.message).not.toContain(value);
    }
    expect(() => payloadCodecFromEnv({ [PAYLOAD_KEY_ENV]: newKey(), ROLLOUT_PAYLOAD_PREVIOUS_KEYS: 'short' })).toThrow(
      /ROLLOUT_PAYLOAD_PREVIOUS_KEYS \(key 1\)/,
    );
    const settings = loadTemporalSettings({ TEMPORAL_ADDRESS: inject('temporalAddress') });
    await expect(connectClient(settings, { [PAYLOAD_KEY_ENV]: 'nope' })).rejects.toThrow(/ROLLOUT_PAYLOAD_KEY must be/);
  });
});

describe('AES-256-GCM payload codec (end to end)', () => {
  it('a rollout runs to Completed with the codec on client and worker, and its history holds no plaintext spec', async () => {
    const env = { [PAYLOAD_KEY_ENV]: newKey() };
    const codec = payloadCodecFromEnv(env)!;
    const settings = loadTemporalSettings({
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_NAMESPACE: inject('temporalNamespace'),
    });
    const client = await connectClient(settings, env); // the production wiring, not a hand-built client
    expect(client.options.loadedDataConverter.payloadCodecs[0]).toBeInstanceOf(AesGcmPayloadCodec);
    const taskQueue = uniqueTaskQueue('codec');
    const worker = await createRolloutWorker({
      connection: suite.env.nativeConnection,
      namespace: settings.namespace,
      taskQueue,
      workflowBundle: suite.bundle,
      deps: { logger: createLogger({ level: 'warn' }) },
      dataConverter: dataConverterFromEnv(env)!,
    });
    const running = worker.run();
    const marker = `confidential-${randomUUID()}`;
    const flag = uniqueFlag('codec');
    try {
      const rollouts = new RolloutClient(client);
      const { workflowId: id } = await rollouts.start(
        {
          name: 'codec-e2e',
          description: `${marker} description`,
          target: {
            type: 'memory',
            name: `${marker}-target`,
            flag,
            variant: `${marker}-variant`,
            baselineVariant: 'off',
          },
          steps: [{ exposure: 10, observe: '1h' }, { exposure: 100 }],
          guards: [
            {
              name: `${marker}-guard`,
              source: { type: 'synthetic', series: { lat: [1] } },
              query: 'lat',
              max: 5,
              interval: '200ms',
            },
          ],
        },
        { taskQueue },
      );
      // a live status decodes the observation activity's encrypted heartbeat through the same codec
      await waitFor(async () => (await rollouts.status(id)).guards[0]?.value === 1, 20_000, 'live guard values');
      expect((await rollouts.status(id)).guards[0]).toMatchObject({ name: `${marker}-guard`, verdict: 'Successful' });
      await rollouts.promote(id, { actor: `${marker}-actor` });
      expect(await rollouts.result(id)).toMatchObject({ phase: 'Completed', exposure: { percent: 100 } });

      const plainHandle = suite.env.client.workflow.getHandle(id); // no codec: what the server stores
      const raw = await plainHandle.fetchHistory();
      expect(historyText(raw)).not.toContain(marker);
      // the SDK's own marker metadata (a patch ID; a local activity's ID, type and timing) is written by the SDK core,
      // outside the codec, and holds no rollout data (the marker text check above covers it); every other payload is encrypted
      const payloads = historyPayloads(raw, { skip: ['searchAttributes', 'patch-data', 'data'] });
      expect(payloads.length).toBeGreaterThan(5);
      expect(payloads.every((p) => text(p.metadata?.encoding) === ENCRYPTED_ENCODING)).toBe(true);
      // the flag is in the workflow ID and a search attribute (RolloutTarget) by design, and nowhere else
      expect(historyText(raw)).toContain(flag);
      expect(historyText(raw, { skip: ['searchAttributes', 'workflowId'] })).not.toContain(flag);
      await expect(plainHandle.result()).rejects.toThrow(/encoding|binary\/encrypted/i);

      const decoded = await codec.decode(payloads as Payload[]);
      expect(decoded.map((p) => text(p.data)).join('\n')).toContain(`${marker} description`);
      const started = raw.events?.[0]?.workflowExecutionStartedEventAttributes?.input?.payloads ?? [];
      const [input] = await codec.decode(started as Payload[]);
      expect(defaultPayloadConverter.fromPayload<{ spec: { description: string } }>(input!).spec.description).toBe(
        `${marker} description`,
      );
    } finally {
      worker.shutdown();
      await running;
      await client.connection.close();
    }
  });
});
