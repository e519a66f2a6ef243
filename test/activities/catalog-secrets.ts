import { catalogOf } from '../../src/catalog/load.js';
import { SecretStore } from '../../src/catalog/secrets.js';
import type { SecretSource } from '../../src/domain/catalog.schema.js';
import type { SecretLookup } from '../../activities/credentials.js';

/**
 * The catalog's secrets as an adapter receives them from the worker: a {@link SecretStore} over a catalog declaring
 * only `secrets` (files relative to `dir`), reading `env`, and its `get` as the adapter's lookup.
 */
export function catalogSecrets(
  secrets: Record<string, SecretSource>,
  env: NodeJS.ProcessEnv = {},
  dir?: string,
): { store: SecretStore; secret: SecretLookup } {
  const store = new SecretStore(catalogOf({ secrets }, dir), env);
  return { store, secret: (name) => store.get(name) };
}
