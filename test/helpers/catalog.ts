import type { LoadedCatalog } from '../../src/catalog/load.js';
import { catalogOf } from '../../src/catalog/load.js';
import type { CatalogInput } from '../../src/domain/catalog.schema.js';

/**
 * The catalog most workflow tests run with: flag files under `dir` (root `work`, also the root of inline flagd
 * targets), inline URLs to any loopback port (the tests' own servers), memory targets and synthetic sources.
 * Tests of the trust boundary build stricter ones.
 */
export function testCatalog(dir: string, extra: Partial<CatalogInput> = {}): LoadedCatalog {
  return catalogOf(
    {
      roots: { work: dir },
      ...extra,
      inline: { flagdRoot: 'work', loopback: true, ...extra.inline },
    },
    dir,
  );
}
