import { access, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { CatalogInput } from '../domain/catalog.schema.js';
import { describeIssues } from '../domain/validation.js';
import { checkCatalog } from '../domain/catalog.js';
import { ValidationError } from '../errors.js';
import { CONFIG_ENV, loadCatalogFile, type LoadedCatalog } from './load.js';

/** Where `rollout dev` keeps its catalog when neither `--config` nor `ROLLOUT_CONFIG` names one. */
export const DEV_CONFIG_FILE = 'rollout.config.yaml';

/** The catalog `rollout dev` writes on its first run: quick starts work, and every section is shown, commented. */
export const DEV_DEFAULT_CATALOG = `# rollout.config.yaml: the operator's catalog. Rollout specs come from other services and may only NAME what
# this file declares; nothing in a spec can add a file, a URL or a credential. \`rollout dev\` wrote this file on its
# first run; \`rollout worker\` and \`rollout serve\` read one with --config or ROLLOUT_CONFIG.
# Reference: \`npx rollout schema --catalog\`; the README's "Security model" says who can do what.

# Directories flag files live under, by name. Relative paths start at this file's directory.
roots:
  flags: ./flags

# Where secrets live: an environment variable or a file, read when an activity calls out. Specs never see them.
secrets: {}
#  prom-token: { env: PROM_TOKEN }
#  alice-token: { file: /run/secrets/alice-api-token }

# Targets a spec names with \`target: NAME\` (or \`target: { name: NAME, variant: v3 }\`).
targets: {}
#  checkout:
#    type: flagd
#    root: flags
#    path: checkout.json
#    flag: new-checkout
#    variant: "on"
#    baselineVariant: "off"

# Metric providers guards and templates name as \`source: NAME\`.
providers: {}
#  prometheus:
#    type: prometheus
#    url: http://127.0.0.1:9090
#    auth: { bearer: prom-token }
#    headers: { X-Scope-OrgID: team-a }

# Guard templates: \`guards: [{ template: error-rate, args: { service: checkout } }]\`.
templates: {}
#  error-rate:
#    args:
#      service: { type: string }
#      max: { type: number, default: 0.05, min: 0, max: 1 }
#    guard:
#      source: prometheus
#      query: sum(rate(http_requests_total{service="{{ args.service }}",code=~"5.."}[1m])) / sum(rate(http_requests_total{service="{{ args.service }}"}[1m]))
#      max: "{{ args.max }}"
#      interval: 30s

# Notifiers (\`notify: [team-chat]\`) and rollback hooks (\`rollback: { compensations: [{ hook: purge-cache }] }\`).
notifiers: {}
hooks: {}

# Who may call the HTTP API: a token (by secret name) and roles (start, operate, approve, admin).
# \`rollout dev\` also accepts the token it keeps in .rollout/api-token, as the principal "api" with every role.
principals: {}
#  alice: { token: alice-token, roles: [start, operate, approve] }

# Rules checked when a spec is validated, per target (or the default for every target).
policy:
  targets: {}
#  default:
#    requiredGuards: [error-rate]
#    maxFirstStep: 10
#    approvalAbove: 50
#    allowedHours: { days: [mon, tue, wed, thu, fri], from: "08:00", to: "17:00" }

# What a spec may write inline instead of naming an entry: flagd files under the root "flags", memory targets and
# scripted synthetic sources. Inline URLs are refused unless listed here (each a prefix: scheme, host, port, path).
inline:
  flagdRoot: flags
  urls: []
  memory: true
  synthetic: true
`;

/**
 * The catalog `rollout dev` runs with: \`--config\`, else \`ROLLOUT_CONFIG\`, else \`rollout.config.yaml\` in the working
 * directory; on a first run (the file does not exist yet) it is written there with {@link DEV_DEFAULT_CATALOG}, and
 * `wrote` says so.
 */
export async function devCatalog(
  config: string | undefined,
  cwd = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ loaded: LoadedCatalog; wrote?: string }> {
  const file = resolve(cwd, config ?? (env[CONFIG_ENV]?.trim() || DEV_CONFIG_FILE));
  const exists = await access(file).then(
    () => true,
    () => false,
  );
  if (!exists) await writeFile(file, DEV_DEFAULT_CATALOG, { flag: 'wx' }).catch(() => undefined);
  return { loaded: await loadCatalogFile(file), ...(exists ? {} : { wrote: file }) };
}

/**
 * `loaded` with `extra` entries added (the demo's target, provider and templates), checked as one catalog. The
 * object is updated in place, so a worker already running with it sees the entries at its next check.
 */
export function extendCatalog(loaded: LoadedCatalog, extra: CatalogInput): void {
  const c = loaded.catalog;
  const merged = {
    ...c,
    roots: { ...c.roots, ...extra.roots },
    secrets: { ...c.secrets, ...extra.secrets },
    targets: { ...c.targets, ...extra.targets },
    providers: { ...c.providers, ...extra.providers },
    templates: { ...c.templates, ...extra.templates },
    notifiers: { ...c.notifiers, ...extra.notifiers },
    hooks: { ...c.hooks, ...extra.hooks },
  };
  const checked = checkCatalog(merged);
  if (!checked.ok) throw new ValidationError(`invalid catalog:\n${describeIssues(checked.issues)}`, checked.issues);
  loaded.catalog = checked.catalog;
}
