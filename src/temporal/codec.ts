import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { METADATA_ENCODING_KEY, type DataConverter, type Payload, type PayloadCodec } from '@temporalio/common';
// @temporalio/proto is CommonJS: a default import works under Node's ESM loader, named imports do not
import proto from '@temporalio/proto';
import { RolloutError } from '../errors.js';

/** Holds the base64 of a 32-byte AES-256 key; every payload is encrypted with it. */
export const PAYLOAD_KEY_ENV = 'ROLLOUT_PAYLOAD_KEY';
/** Comma-separated base64 keys that still decrypt (never encrypt): set the old key here when rotating. */
export const PREVIOUS_PAYLOAD_KEYS_ENV = 'ROLLOUT_PAYLOAD_PREVIOUS_KEYS';
/** The `encoding` metadata of an encrypted payload. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
/** Metadata naming the key a payload was encrypted with (a fingerprint, not the key). */
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const KEY_BYTES = 32;
const CIPHER = 'aes-256-gcm';
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** A payload could not be decrypted: unknown key, tampered data or metadata, or a malformed payload. */
export class PayloadCodecError extends RolloutError {
  override readonly name = 'PayloadCodecError';
}

/** One AES-256 key and its public fingerprint. */
export interface PayloadKey {
  id: string;
  key: Buffer;
}

/** The key ID written into payload metadata: the first 16 hex digits of SHA-256 over the key (reveals nothing useful). */
export function payloadKeyId(key: Buffer): string {
  return createHash('sha256').update('rollout-payload-key:').update(key).digest('hex').slice(0, 16);
}

/**
 * Parses a base64 key; `source` names where it came from (an environment variable) so the error can say what to fix.
 * Never echoes the value.
 */
export function parsePayloadKey(base64: string, source: string): PayloadKey {
  const text = base64.trim();
  const key = Buffer.from(text, 'base64');
  const canonical =
    /^[A-Za-z0-9+/]+={0,2}$/.test(text) && key.toString('base64').replace(/=+$/, '') === text.replace(/=+$/, '');
  if (!canonical || key.length !== KEY_BYTES) {
    throw new RolloutError(
      `${source} must be the base64 of exactly ${KEY_BYTES} random bytes (an AES-256 key)` +
        (canonical ? `; it decodes to ${key.length} bytes` : '; it is not valid base64'),
      `Generate one with: openssl rand -base64 ${KEY_BYTES}`,
    );
  }
  return { id: payloadKeyId(key), key };
}

/**
 * Encrypts every payload with AES-256-GCM: the whole Payload proto (metadata and data) becomes the ciphertext, so
 * neither values nor their encodings are readable in history. Each payload gets a random 12-byte IV; the key ID is
 * authenticated data, so a payload cannot be moved to another key ID. Payloads that were never encrypted (written
 * before encryption was turned on) decode unchanged, so running rollouts survive enabling it.
 */
export class AesGcmPayloadCodec implements PayloadCodec {
  private readonly byId: ReadonlyMap<string, Buffer>;

  /** `current` encrypts and decrypts; `previous` keys only decrypt (key rotation). */
  constructor(
    private readonly current: PayloadKey,
    previous: readonly PayloadKey[] = [],
  ) {
    this.byId = new Map([...previous, current].map((k) => [k.id, k.key]));
  }

  /** The ID of the key new payloads are encrypted with. */
  get keyId(): string {
    return this.current.id;
  }

  async encode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.encrypt(payload));
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    return payloads.map((payload) => this.decrypt(payload));
  }

  private encrypt(payload: Payload): Payload {
    const plain = proto.temporal.api.common.v1.Payload.encode(payload).finish();
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(CIPHER, this.current.key, iv, { authTagLength: TAG_BYTES });
    cipher.setAAD(Buffer.from(this.current.id, 'utf8'));
    const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        [METADATA_ENCODING_KEY]: encoder.encode(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: encoder.encode(this.current.id),
      },
      data: new Uint8Array(data),
    };
  }

  private decrypt(payload: Payload): Payload {
    const encoding = payload.metadata?.[METADATA_ENCODING_KEY];
    if (!encoding || decoder.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    if (!idBytes) throw new PayloadCodecError(`encrypted payload without ${KEY_ID_METADATA} metadata`);
    const id = decoder.decode(idBytes);
    const key = this.byId.get(id);
    if (!key) {
      throw new PayloadCodecError(
        `payload was encrypted with key ${id}, which is not configured (known: ${[...this.byId.keys()].join(', ')})`,
        `Set ${PAYLOAD_KEY_ENV} or ${PREVIOUS_PAYLOAD_KEYS_ENV} to include that key.`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES)
      throw new PayloadCodecError(`encrypted payload is too short (${data.length} bytes)`);
    const decipher = createDecipheriv(CIPHER, key, data.subarray(0, IV_BYTES), { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(id, 'utf8'));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)), decipher.final()]);
    } catch (err) {
      throw new PayloadCodecError(
        `encrypted payload failed authentication (tampered, or a different key with the same ID)`,
        undefined,
        {
          cause: err,
        },
      );
    }
    return plainPayload(proto.temporal.api.common.v1.Payload.decode(plain));
  }
}

/** A decoded proto as the plain object the SDK produces itself (Uint8Arrays, no empty repeated fields). */
function plainPayload(decoded: proto.temporal.api.common.v1.Payload): Payload {
  const metadata = Object.fromEntries(Object.entries(decoded.metadata).map(([k, v]) => [k, new Uint8Array(v)]));
  const payload: Payload = { metadata, data: new Uint8Array(decoded.data) };
  if (decoded.externalPayloads.length > 0) payload.externalPayloads = decoded.externalPayloads;
  return payload;
}

/**
 * The codec configured by `ROLLOUT_PAYLOAD_KEY` (and `ROLLOUT_PAYLOAD_PREVIOUS_KEYS`), or undefined when the key is
 * not set. A malformed key throws a {@link RolloutError} naming the variable.
 */
export function payloadCodecFromEnv(env: NodeJS.ProcessEnv = process.env): AesGcmPayloadCodec | undefined {
  const value = env[PAYLOAD_KEY_ENV];
  if (value === undefined || value.trim() === '') {
    if (env[PREVIOUS_PAYLOAD_KEYS_ENV]?.trim()) {
      throw new RolloutError(
        `${PREVIOUS_PAYLOAD_KEYS_ENV} is set but ${PAYLOAD_KEY_ENV} is not`,
        `Set ${PAYLOAD_KEY_ENV} to the current key.`,
      );
    }
    return undefined;
  }
  const current = parsePayloadKey(value, PAYLOAD_KEY_ENV);
  const previous = (env[PREVIOUS_PAYLOAD_KEYS_ENV] ?? '')
    .split(',')
    .filter((k) => k.trim() !== '')
    .map((k, i) => parsePayloadKey(k, `${PREVIOUS_PAYLOAD_KEYS_ENV} (key ${i + 1})`));
  return new AesGcmPayloadCodec(current, previous);
}

/** The data converter for clients and workers: `{ payloadCodecs: [codec] }` when a payload key is set, else undefined. */
export function dataConverterFromEnv(env: NodeJS.ProcessEnv = process.env): DataConverter | undefined {
  const codec = payloadCodecFromEnv(env);
  return codec ? { payloadCodecs: [codec] } : undefined;
}
