// A target kind of your own: the exposure of each flag as one small JSON file under a catalog root, for a service
// that reads `<flag>.exposure.json` itself. Load it with `rollout worker --targets examples/targets/percent-file.mjs`
// and name it from the catalog:
//
//   targets:
//     checkout-percent:
//       type: extension
//       kind: percent-file
//       flag: new-checkout
//       variant: on
//       baselineVariant: off
//       settings: { root: flags }
import { randomUUID } from 'node:crypto';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { defineTarget, TargetError } from 'rollout-orchestrator';

export default defineTarget({
  kind: 'percent-file',
  // What a catalog entry's `settings` must hold; the worker checks it when it starts.
  settings: z.object({ root: z.string().min(1) }).strict(),
  create({ flag, variant, baselineVariant, settings }, ctx) {
    const dir = ctx.rootDir(settings.root);
    const file = dir === undefined ? undefined : join(dir, `${flag}.exposure.json`);
    const located = () => {
      // retryable: the operator fixes the catalog, and the rollout carries on from where it stood
      if (file === undefined) throw new TargetError(`root "${settings.root}" is not in the catalog`, 'CONFIG', true);
      return file;
    };
    const read = async () => {
      let text;
      try {
        text = await readFile(located(), 'utf8');
      } catch (err) {
        if (err.code === 'ENOENT') return { percent: 0 }; // never written: everyone is on the baseline
        throw err instanceof TargetError ? err : new TargetError(`${flag}: ${err.message}`, 'UNAVAILABLE', true);
      }
      try {
        const { percent, cohort, lastKey } = JSON.parse(text);
        return { percent, ...(cohort ? { cohort } : {}), ...(lastKey ? { lastKey } : {}) };
      } catch {
        throw new TargetError(`${flag}.exposure.json is not JSON`, 'UNPARSABLE', false);
      }
    };
    return {
      describe: `percent-file:${settings.root}/${flag}`,
      read,
      // absolute, so applying the same change twice is harmless; the worker reads it back to verify it
      async apply({ percent, cohort, idempotencyKey }) {
        const path = located();
        const next = {
          flag,
          variant,
          baselineVariant,
          percent,
          ...(cohort ? { cohort } : {}),
          lastKey: idempotencyKey,
        };
        const temp = `${path}.${randomUUID()}.tmp`;
        await writeFile(temp, `${JSON.stringify(next, null, 2)}\n`);
        await rename(temp, path); // readers see the old file or the new one, never half of one
        return read();
      },
    };
  },
});
