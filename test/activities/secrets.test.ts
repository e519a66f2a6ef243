import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogOf } from '../../src/catalog/load.js';
import { REDACTED, SecretError, SecretStore } from '../../src/catalog/secrets.js';
import type { SecretSource } from '../../src/domain/catalog.schema.js';

/** A store over a catalog declaring `secrets`, its files relative to `dir`, reading `env`. */
const storeOf = (secrets: Record<string, SecretSource>, env: NodeJS.ProcessEnv = {}, dir = process.cwd()) =>
  new SecretStore(catalogOf({ secrets }, dir), env);

const failureOf = (p: Promise<unknown>) =>
  p.then(
    () => expect.fail('expected a SecretError'),
    (e: unknown) => e as SecretError,
  );

const tempDir = () => mkdtemp(path.join(tmpdir(), 'secret-store-'));

describe('SecretStore: the catalog’s secrets, read when an activity calls out', () => {
  it('reads an env secret from the worker’s environment, trimmed', async () => {
    const store = storeOf({ 'flags-token': { env: 'FLAGS_TOKEN' } }, { FLAGS_TOKEN: '  abc-123\n' });
    expect(await store.get('flags-token')).toBe('abc-123');
  });

  it('reads a file secret relative to the catalog’s directory, or at an absolute path, trimmed', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'hook.token'), 'from-a-relative-file\n');
    const elsewhere = await tempDir();
    await writeFile(path.join(elsewhere, 'api.key'), '  from-an-absolute-file  ');
    const store = storeOf(
      { 'hook-token': { file: 'hook.token' }, 'api-key': { file: path.join(elsewhere, 'api.key') } },
      {},
      dir,
    );
    expect(await store.get('hook-token')).toBe('from-a-relative-file');
    expect(await store.get('api-key')).toBe('from-an-absolute-file');
  });

  it('reads the value at every call, so a rotated secret applies without a restart', async () => {
    const dir = await tempDir();
    const env: NodeJS.ProcessEnv = { FLAGS_TOKEN: 'env-v1' };
    await writeFile(path.join(dir, 'hook.token'), 'file-v1');
    const store = storeOf({ 'flags-token': { env: 'FLAGS_TOKEN' }, 'hook-token': { file: 'hook.token' } }, env, dir);
    expect([await store.get('flags-token'), await store.get('hook-token')]).toEqual(['env-v1', 'file-v1']);

    env.FLAGS_TOKEN = 'env-v2';
    await writeFile(path.join(dir, 'hook.token'), 'file-v2');
    expect([await store.get('flags-token'), await store.get('hook-token')]).toEqual(['env-v2', 'file-v2']);
  });

  it('refuses a secret the catalog does not declare, inherited object keys included', async () => {
    const store = storeOf({ 'flags-token': { env: 'FLAGS_TOKEN' } }, { FLAGS_TOKEN: 'x-value' });
    for (const name of ['other-token', 'constructor', 'toString', '__proto__']) {
      const err = await failureOf(store.get(name));
      expect(err).toBeInstanceOf(SecretError);
      expect(err.message).toBe(`secret "${name}" is not declared in the catalog`);
    }
  });

  it('names the secret and where it lives, never a value, when it is unset, blank, empty or unreadable', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'empty.token'), '  \n');
    const store = storeOf(
      {
        unset: { env: 'UNSET_TOKEN' },
        blank: { env: 'BLANK_TOKEN' },
        empty: { file: 'empty.token' },
        missing: { file: 'missing.token' },
      },
      { BLANK_TOKEN: '   ', OTHER: 'unrelated-value' },
      dir,
    );
    const messages = await Promise.all(
      ['unset', 'blank', 'empty', 'missing'].map(async (name) => (await failureOf(store.get(name))).message),
    );
    expect(messages).toEqual([
      'secret "unset" is not set (environment variable UNSET_TOKEN)',
      'secret "blank" is not set (environment variable BLANK_TOKEN)',
      'secret "empty" is empty (its file holds nothing)',
      'secret "missing" cannot be read from its file (ENOENT)',
    ]);
  });

  it('reads a secret whose file went away as unreadable, until it is back', async () => {
    const dir = await tempDir();
    const file = path.join(dir, 'hook.token');
    await writeFile(file, 'hook-v1');
    const store = storeOf({ hook: { file: 'hook.token' } }, {}, dir);
    expect(await store.get('hook')).toBe('hook-v1');
    await rm(file);
    await expect(store.get('hook')).rejects.toThrow('secret "hook" cannot be read from its file (ENOENT)');
    await writeFile(file, 'hook-v2');
    expect(await store.get('hook')).toBe('hook-v2');
  });
});

describe('SecretStore redaction: every value read is replaced in what activities return and throw', () => {
  it('replaces each value read, every occurrence, and leaves other text alone', async () => {
    const store = storeOf({ a: { env: 'A' }, b: { env: 'B' } }, { A: 'alpha-secret', B: 'beta-secret' });
    await store.get('a');
    await store.get('b');
    expect(store.redact('401: alpha-secret rejected (retry with alpha-secret or beta-secret?)')).toBe(
      `401: ${REDACTED} rejected (retry with ${REDACTED} or ${REDACTED}?)`,
    );
    expect(store.redact('nothing secret here')).toBe('nothing secret here');
  });

  it('knows only what it has read: an unread secret is not yet redacted', async () => {
    const store = storeOf({ a: { env: 'A' }, b: { env: 'B' } }, { A: 'alpha-secret', B: 'beta-secret' });
    await store.get('a');
    expect(store.redact('alpha-secret beta-secret')).toBe(`${REDACTED} beta-secret`);
  });

  it('keeps redacting a rotated-out value: an old token echoed later is still a secret', async () => {
    const env: NodeJS.ProcessEnv = { A: 'token-before' };
    const store = storeOf({ a: { env: 'A' } }, env);
    await store.get('a');
    env.A = 'token-after';
    await store.get('a');
    expect(store.redact('saw token-before then token-after')).toBe(`saw ${REDACTED} then ${REDACTED}`);
  });

  it('does not redact values shorter than four characters (replacing every "ab" would garble messages)', async () => {
    const store = storeOf({ short: { env: 'SHORT' } }, { SHORT: 'ab' });
    expect(await store.get('short')).toBe('ab');
    expect(store.redact('absent tab')).toBe('absent tab');
  });

  it('redacts every string inside a JSON value, keys and non-strings kept', async () => {
    const store = storeOf({ a: { env: 'A' } }, { A: 'alpha-secret' });
    await store.get('a');
    const value = {
      reason: 'upstream said alpha-secret',
      checks: [{ detail: 'Bearer alpha-secret', value: 0.2, ok: false, missing: null }],
      count: 3,
    };
    expect(store.redactValue(value)).toEqual({
      reason: `upstream said ${REDACTED}`,
      checks: [{ detail: `Bearer ${REDACTED}`, value: 0.2, ok: false, missing: null }],
      count: 3,
    });
    expect(value.reason).toBe('upstream said alpha-secret');
    expect(store.redactValue('alpha-secret')).toBe(REDACTED);
  });

  it('preload() reads every declared secret once, skipping unset ones, so redaction knows them before use', async () => {
    const dir = await tempDir();
    await writeFile(path.join(dir, 'hook.token'), 'hook-file-secret');
    const store = storeOf(
      { api: { env: 'API' }, hook: { file: 'hook.token' }, unset: { env: 'UNSET' } },
      { API: 'api-env-secret' },
      dir,
    );
    const echoed = 'api-env-secret and hook-file-secret';
    expect(store.redact(echoed)).toBe(echoed);
    await expect(store.preload()).resolves.toBeUndefined();
    expect(store.redact(echoed)).toBe(`${REDACTED} and ${REDACTED}`);
  });
});
