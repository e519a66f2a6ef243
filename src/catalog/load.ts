import { isAbsolute, resolve } from 'node:path';
import type { Catalog } from '../domain/catalog.schema.js';
import { checkCatalog, EMPTY_CATALOG } from '../domain/catalog.js';
import { describeIssues } from '../domain/validation.js';
import { ValidationError } from '../errors.js';
import { readYamlFile } from '../spec/load.js';

/** The environment variable that names the catalog file when `--config` does not. */
export const CONFIG_ENV = 'ROLLOUT_CONFIG';

/** A catalog as the worker and the API hold it: its entries, and where its relative paths start. */
export interface LoadedCatalog {
  catalog: Catalog;
  /** The directory relative roots and secret files resolve against: the file's own directory. */
  dir: string;
  /** The file it came from; undefined for a catalog built in code. */
  file?: string;
}

/** A catalog built in code (tests, embedding), its relative paths against `dir`. */
export function catalogOf(value: unknown, dir = process.cwd()): LoadedCatalog {
  const checked = checkCatalog(value);
  if (!checked.ok) throw new ValidationError(`invalid catalog:\n${describeIssues(checked.issues)}`, checked.issues);
  return { catalog: checked.catalog, dir };
}

/** Nothing declared: only memory targets and synthetic sources inline. What a worker runs with when given no file. */
export const emptyCatalog = (dir = process.cwd()): LoadedCatalog => ({ catalog: EMPTY_CATALOG, dir });

/** Reads and checks a catalog file; throws a {@link ValidationError} naming the file and every problem by path. */
export async function loadCatalogFile(file: string): Promise<LoadedCatalog> {
  const path = resolve(file);
  const checked = checkCatalog(await readYamlFile(path));
  if (!checked.ok)
    throw new ValidationError(`${file} is not a valid catalog:\n${describeIssues(checked.issues)}`, checked.issues);
  return { catalog: checked.catalog, dir: resolve(path, '..'), file: path };
}

/** The catalog named by `--config`, else by `ROLLOUT_CONFIG`; undefined when neither names one. */
export async function catalogFromOptions(
  config: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<LoadedCatalog | undefined> {
  const file = config ?? (env[CONFIG_ENV]?.trim() || undefined);
  return file === undefined ? undefined : loadCatalogFile(file);
}

/** The absolute directory of a declared root, or undefined when the catalog does not declare it. */
export function rootDir(loaded: LoadedCatalog, name: string): string | undefined {
  if (!Object.hasOwn(loaded.catalog.roots, name)) return undefined;
  const dir = loaded.catalog.roots[name]!;
  return isAbsolute(dir) ? dir : resolve(loaded.dir, dir);
}
