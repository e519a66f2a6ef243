import type { Catalog } from '../domain/catalog.schema.js';
import { resolveSpec, type ResolveOptions } from '../domain/resolve.js';
import type { ResolvedSpec, RolloutSpec } from '../domain/spec.schema.js';
import type { ValidationIssue } from '../domain/validation.js';
import { readYamlFile, validateSpec } from './load.js';
import { describeIssues } from '../domain/validation.js';
import { ValidationError } from '../errors.js';

export type SpecCheck =
  | { ok: true; spec: ResolvedSpec; request: RolloutSpec; targetName?: string }
  | { ok: false; issues: ValidationIssue[] };

/**
 * The one spec check, at every boundary (the CLI, the API, the client, and the workflow's own local activity): the
 * schema, then every name resolved against the operator's catalog and every inline part checked against what it
 * allows, then the target's policy. Returns the spec as the worker runs it, or every problem by path. Never throws.
 */
export function checkSpec(input: unknown, catalog: Catalog, options: ResolveOptions = {}): SpecCheck {
  const shape = validateSpec(input);
  if (!shape.ok) return shape;
  const resolved = resolveSpec(shape.spec, catalog, options);
  if (!resolved.ok) return resolved;
  return { ...resolved, request: shape.spec };
}

/**
 * Reads a spec file and checks it: against `catalog` when given (as the worker will), else its shape only. Returns
 * the spec as the caller wrote it (the workflow's input) and, with a catalog, as the worker will run it; throws a
 * {@link ValidationError} listing every problem by path.
 */
export async function loadSpecFile(
  path: string,
  catalog?: Catalog,
): Promise<{ request: RolloutSpec; resolved?: ResolvedSpec }> {
  const value = await readYamlFile(path);
  const refuse = (issues: ValidationIssue[]) =>
    new ValidationError(`${path} is not a valid rollout spec:\n${describeIssues(issues)}`, issues);
  if (!catalog) {
    const shape = validateSpec(value);
    if (!shape.ok) throw refuse(shape.issues);
    return { request: shape.spec };
  }
  const full = checkSpec(value, catalog, { startingAt: new Date() });
  if (!full.ok) throw refuse(full.issues);
  return { request: full.request, resolved: full.spec };
}
