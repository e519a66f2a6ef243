import { Catalog } from './catalog.schema.js';
import { InlineGuard } from './guard-spec.schema.js';
import { argProblem, expandTemplate, sampleArgs, undeclaredPlaceholders } from './template.js';
import { flattenIssues, type ValidationIssue } from './validation.js';

export type CatalogResult = { ok: true; catalog: Catalog } | { ok: false; issues: ValidationIssue[] };

/** An empty catalog: nothing declared; only memory targets and synthetic sources inline (tests, drills). */
export const EMPTY_CATALOG: Catalog = Catalog.parse({});

/**
 * The catalog with its defaults, or every problem by path: the schema's, then every name one entry gives another
 * (a target's root, a secret, a template's provider, a principal's token, a policy's target) that is not declared,
 * and every template whose body is not a guard with sample arguments. Never throws.
 */
export function checkCatalog(value: unknown): CatalogResult {
  const parsed = Catalog.safeParse(value ?? {});
  if (!parsed.success) return { ok: false, issues: flattenIssues(parsed.error.issues) };
  const c = parsed.data;
  const issues: ValidationIssue[] = [];
  const need = (record: object, name: string, path: string, what: string) => {
    if (!Object.hasOwn(record, name)) issues.push({ path, message: `names ${what} "${name}", which is not declared` });
  };
  const secretsOf = (path: string, x: { auth?: unknown; headers?: Record<string, unknown> | undefined }) => {
    const auth = x.auth as { bearer?: string; basic?: { password: string } } | undefined;
    if (auth?.bearer) need(c.secrets, auth.bearer, `${path}.auth.bearer`, 'secret');
    if (auth?.basic) need(c.secrets, auth.basic.password, `${path}.auth.basic.password`, 'secret');
    for (const [h, v] of Object.entries(x.headers ?? {}))
      if (typeof v === 'object' && v !== null)
        need(c.secrets, (v as { secret: string }).secret, `${path}.headers.${h}`, 'secret');
  };
  for (const [name, t] of Object.entries(c.targets)) {
    if (t.type === 'flagd') need(c.roots, t.root, `targets.${name}.root`, 'root');
    if (t.type === 'http') secretsOf(`targets.${name}`, t);
    if (t.type === 'unleash' || t.type === 'launchdarkly') need(c.secrets, t.token, `targets.${name}.token`, 'secret');
  }
  for (const [name, p] of Object.entries(c.providers)) {
    const at = `providers.${name}`;
    if (p.type === 'datadog') {
      need(c.secrets, p.apiKey, `${at}.apiKey`, 'secret');
      need(c.secrets, p.appKey, `${at}.appKey`, 'secret');
    } else if (p.type === 'cloudwatch') {
      need(c.secrets, p.accessKeyId, `${at}.accessKeyId`, 'secret');
      need(c.secrets, p.secretAccessKey, `${at}.secretAccessKey`, 'secret');
      if (p.sessionToken !== undefined) need(c.secrets, p.sessionToken, `${at}.sessionToken`, 'secret');
    } else if (p.type !== 'synthetic') secretsOf(at, p);
  }
  for (const [name, n] of Object.entries(c.notifiers))
    if ('webhook' in n) secretsOf(`notifiers.${name}.webhook`, n.webhook);
    else if ('chat' in n) need(c.secrets, n.chat.url.secret, `notifiers.${name}.chat.url.secret`, 'secret');
  for (const [name, h] of Object.entries(c.hooks)) secretsOf(`hooks.${name}.http`, h.http);
  for (const [name, p] of Object.entries(c.principals)) need(c.secrets, p.token, `principals.${name}.token`, 'secret');
  for (const name of Object.keys(c.policy.targets)) need(c.targets, name, `policy.targets.${name}`, 'target');
  if (c.inline.flagdRoot !== undefined) need(c.roots, c.inline.flagdRoot, 'inline.flagdRoot', 'root');
  for (const [name, template] of Object.entries(c.templates)) {
    for (const [arg, spec] of Object.entries(template.args)) {
      const problem = spec.default === undefined ? undefined : argProblem(spec, spec.default);
      if (problem) issues.push({ path: `templates.${name}.args.${arg}.default`, message: problem });
    }
    for (const typo of undeclaredPlaceholders(template))
      issues.push({ path: `templates.${name}.guard`, message: `{{ args.${typo} }} names no argument of the template` });
    const guard = InlineGuard.safeParse({ ...(expandTemplate(template, sampleArgs(template)) as object), name });
    if (!guard.success) {
      for (const i of flattenIssues(guard.error.issues))
        issues.push({ path: `templates.${name}.guard${i.path === '(root)' ? '' : `.${i.path}`}`, message: i.message });
      continue;
    }
    const source = 'source' in guard.data ? guard.data.source : undefined;
    if (typeof source === 'string') need(c.providers, source, `templates.${name}.guard.source`, 'provider');
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, catalog: c };
}
