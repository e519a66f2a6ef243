import type { LoadedCatalog } from '../../src/catalog/load.js';
import { describeIssues } from '../../src/domain/validation.js';
import { ValidationError } from '../../src/errors.js';
import type { TargetRegistry } from './define.js';

/**
 * Checks every `extension` target of the catalog against the kinds the worker registered: the kind must be known
 * and its settings valid. A worker refuses to start on a catalog it could not serve, naming each entry by path.
 */
export function checkCatalogTargets(loaded: LoadedCatalog, registry: TargetRegistry): void {
  const issues = Object.entries(loaded.catalog.targets).flatMap(([name, t]) =>
    t.type === 'extension'
      ? registry.check(t).map((i) => ({ path: `targets.${name}.${i.path.join('.')}`, message: i.message }))
      : [],
  );
  if (issues.length === 0) return;
  const where = loaded.file ?? 'the catalog';
  throw new ValidationError(`${where} names targets this worker cannot serve:\n${describeIssues(issues)}`, issues);
}
