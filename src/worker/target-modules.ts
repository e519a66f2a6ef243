import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { TargetDefinition } from '../../activities/targets/define.js';
import { ValidationError } from '../errors.js';

/**
 * The target kinds in the modules `rollout worker --targets` names: each module's default export (or its `targets`
 * export) is one definition made with `defineTarget`, or an array of them. A module that exports anything else is
 * refused by name, before the worker starts.
 */
export async function loadTargetModules(files: readonly string[]): Promise<TargetDefinition[]> {
  const definitions: TargetDefinition[] = [];
  for (const file of files) {
    let loaded: Record<string, unknown>;
    try {
      loaded = (await import(pathToFileURL(resolve(file)).href)) as Record<string, unknown>;
    } catch (err) {
      throw refused(file, `cannot be loaded: ${(err as Error).message}`);
    }
    const exported = loaded.default ?? loaded.targets;
    const list = Array.isArray(exported) ? (exported as unknown[]) : [exported];
    if (list.length === 0 || !list.every(isDefinition))
      throw refused(file, 'must export (default, or as `targets`) a defineTarget(…) result or an array of them');
    definitions.push(...list);
  }
  return definitions;
}

function isDefinition(value: unknown): value is TargetDefinition {
  const d = value as Partial<TargetDefinition> | null;
  return (
    typeof d === 'object' &&
    d !== null &&
    typeof d.kind === 'string' &&
    typeof d.create === 'function' &&
    typeof (d.settings as { safeParse?: unknown } | undefined)?.safeParse === 'function'
  );
}

const refused = (file: string, why: string) =>
  new ValidationError(`--targets ${file}: ${why}`, [{ path: '--targets', message: `${file} ${why}` }]);
