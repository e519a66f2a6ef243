import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createTarget, MemoryTargetRegistry } from '../../../activities/targets/index.js';
import { TargetSpec } from '../../../src/domain/target-spec.schema.js';
import { httpRecorder, type HttpRecorder } from '../../helpers/http-recorder.js';
import { catalogSecrets } from '../catalog-secrets.js';

const flag = { flag: 'new-ranker', variant: 'on', baselineVariant: 'off' } as const;
const tempDir = () => mkdtemp(path.join(tmpdir(), 'create-target-'));

describe('createTarget: a resolved target over the catalog’s roots and secrets', () => {
  let recorder: HttpRecorder | undefined;
  afterEach(async () => {
    await recorder?.close();
    recorder = undefined;
  });

  it('writes a flagd target’s file under the directory of the root it names, not another root', async () => {
    const dirs: Record<string, string> = { flags: await tempDir(), other: await tempDir() };
    const target = createTarget(TargetSpec.parse({ type: 'flagd', root: 'flags', path: 'flags.json', ...flag }), {
      memory: new MemoryTargetRegistry(),
      rootDir: (root) => (root === undefined ? undefined : dirs[root]),
    });

    await target.apply({ percent: 10, idempotencyKey: 'k' });
    const written = JSON.parse(await readFile(path.join(dirs.flags!, 'flags.json'), 'utf8')) as {
      flags: Record<string, unknown>;
    };
    expect(Object.keys(written.flags)).toEqual(['new-ranker']);
    await expect(readFile(path.join(dirs.other!, 'flags.json'), 'utf8')).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('asks for the legacy base directory with `undefined` when a recorded flagd target names no root', async () => {
    const base = await tempDir();
    const asked: (string | undefined)[] = [];
    const target = createTarget(TargetSpec.parse({ type: 'flagd', path: 'flags.json', ...flag }), {
      memory: new MemoryTargetRegistry(),
      rootDir: (root) => {
        asked.push(root);
        return root === undefined ? base : undefined;
      },
    });
    await target.apply({ percent: 5, idempotencyKey: 'k' });
    expect(asked).toEqual([undefined]);
    await expect(readFile(path.join(base, 'flags.json'), 'utf8')).resolves.toContain('new-ranker');
  });

  it('fails every call of a flagd target whose root the catalog does not declare, retryably, writing nothing', async () => {
    const target = createTarget(TargetSpec.parse({ type: 'flagd', root: 'gone', path: 'flags.json', ...flag }), {
      memory: new MemoryTargetRegistry(),
      rootDir: () => undefined,
    });
    for (const call of [target.read(), target.apply({ percent: 5, idempotencyKey: 'k' })]) {
      await expect(call).rejects.toMatchObject({
        code: 'CONFIG',
        retryable: true,
        message: 'flagd root "gone" is not declared in the worker\'s catalog',
      });
    }
  });

  it('gives an http target the catalog’s secrets, read when it calls out', async () => {
    recorder = await httpRecorder();
    const { secret } = catalogSecrets({ 'flags-token': { env: 'FLAGS_TOKEN' } }, { FLAGS_TOKEN: 'from-the-catalog' });
    const target = createTarget(
      TargetSpec.parse({ type: 'http', url: `${recorder.url}/flags`, auth: { bearer: 'flags-token' }, ...flag }),
      { memory: new MemoryTargetRegistry(), rootDir: () => undefined, secret },
    );
    await target.apply({ percent: 5, idempotencyKey: 'k' });
    expect(recorder.requests[0]?.headers.authorization).toBe('Bearer from-the-catalog');
  });
});
