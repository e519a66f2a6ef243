import { describe, expect, it } from 'vitest';
import { callHttpCompensation } from '../../../activities/compensations/http-compensation.js';
import { TargetError } from '../../../activities/targets/port.js';
import { httpRecorder } from '../../helpers/http-recorder.js';

const hook = (url: string) => ({ name: 'drain', http: { url, method: 'POST' as const, timeoutMs: 2_000 } });

describe('http compensation', () => {
  it('sends the idempotency key and succeeds on 2xx', async () => {
    const rec = await httpRecorder();
    try {
      await expect(callHttpCompensation(hook(`${rec.url}/drain`), 'run-1:rollback:0', {})).resolves.toEqual({
        status: 200,
      });
      expect(rec.requests[0]).toMatchObject({ method: 'POST', path: '/drain' });
      expect(rec.requests[0]!.headers['idempotency-key']).toBe('run-1:rollback:0');
    } finally {
      await rec.close();
    }
  });

  it('never quotes a URL’s credentials in its failure (unreachable or answering an error)', async () => {
    const unreachable = await callHttpCompensation(hook('http://ops:s3cret-pw@127.0.0.1:1/drain'), 'k', {}).catch(
      (e: unknown) => e,
    );
    expect(unreachable).toBeInstanceOf(TargetError);
    expect((unreachable as TargetError).message).toMatch(
      /^compensation POST http:\/\/\*\*\*@127\.0\.0\.1:1\/drain failed/,
    );
    expect((unreachable as TargetError).message).not.toContain('s3cret-pw');
    expect((unreachable as TargetError).cause).toBeUndefined();
  });
});
