import type { Catalog } from './catalog.schema.js';
import {
  GuardSpec,
  InlineGuard,
  isMeasured,
  isWebhookGuard,
  type GuardRef,
  type MetricSourceSpec,
  type SourceRef,
} from './guard-spec.schema.js';
import { checkPolicy } from './policy.js';
import {
  ResolvedSpec,
  type Compensation,
  type CompensationRef,
  type Notifier,
  type NotifierRef,
  type RolloutSpec,
} from './spec.schema.js';
import type { TargetRef, TargetSpec } from './target-spec.schema.js';
import { expandTemplate, templateArgs } from './template.js';
import { flattenIssues, formatPath, type ValidationIssue } from './validation.js';

/*
 * A spec's references resolved against the operator's catalog. Pure: the catalog is already loaded, and secrets stay
 * names. Runs at the edge (CLI, API) and again in the workflow's spec check; both say the same thing the same way.
 */

export type Resolution =
  { ok: true; spec: ResolvedSpec; targetName?: string } | { ok: false; issues: ValidationIssue[] };

const own = <T>(record: Readonly<Record<string, T>>, key: string): T | undefined =>
  Object.hasOwn(record, key) ? record[key] : undefined;

const undeclared = (what: string, name: string) => `${what} "${name}" is not declared in the catalog`;

const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);

/**
 * Whether an inline URL is one the catalog allows: same scheme, host and port as a prefix, path under its path;
 * with `loopback`, also any port of a loopback host. A URL with credentials is never allowed inline.
 */
export function urlAllowed(url: string, prefixes: readonly string[], loopback = false): boolean {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return false;
  }
  if (u.username !== '' || u.password !== '') return false;
  if (loopback && LOOPBACK.has(u.hostname)) return true;
  return prefixes.some((prefix) => {
    const p = new URL(prefix);
    const dir = p.pathname.endsWith('/') ? p.pathname : `${p.pathname}/`;
    return u.protocol === p.protocol && u.host === p.host && (u.pathname === p.pathname || u.pathname.startsWith(dir));
  });
}

class Resolver {
  readonly issues: ValidationIssue[] = [];
  constructor(private readonly catalog: Catalog) {}

  private refuse(path: string, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  private inlineUrl(url: string, path: string): boolean {
    if (urlAllowed(url, this.catalog.inline.urls, this.catalog.inline.loopback)) return true;
    this.refuse(path, 'is not a URL the catalog allows inline (name a catalog entry instead)');
    return false;
  }

  target(ref: TargetRef): TargetSpec | undefined {
    if (typeof ref === 'string' || !('type' in ref)) {
      const name = typeof ref === 'string' ? ref : ref.name;
      const at = typeof ref === 'string' ? 'target' : 'target.name';
      const declared = own(this.catalog.targets, name);
      if (!declared) return this.refuse(at, undeclared('target', name));
      if (typeof ref === 'string') return declared;
      const variant = ref.variant ?? declared.variant;
      const baselineVariant = ref.baselineVariant ?? declared.baselineVariant;
      if (variant === baselineVariant) return this.refuse('target.variant', 'variant and baselineVariant must differ');
      return { ...declared, variant, baselineVariant };
    }
    switch (ref.type) {
      case 'memory':
        return this.catalog.inline.memory ? ref : this.refuse('target.type', 'inline memory targets are not allowed');
      case 'flagd': {
        const root = this.catalog.inline.flagdRoot;
        if (root === undefined)
          return this.refuse('target', 'inline flagd targets are not allowed: name a catalog target');
        return { ...ref, root };
      }
      case 'http':
        return this.inlineUrl(ref.url, 'target.url') ? ref : undefined;
    }
  }

  source(ref: SourceRef, at: string): MetricSourceSpec | undefined {
    if (typeof ref === 'string')
      return own(this.catalog.providers, ref) ?? this.refuse(at, undeclared('provider', ref));
    if (ref.type === 'synthetic')
      return this.catalog.inline.synthetic
        ? ref
        : this.refuse(`${at}.type`, 'inline synthetic sources are not allowed');
    return this.inlineUrl(ref.url, `${at}.url`) ? ref : undefined;
  }

  guard(ref: GuardRef, at: string): GuardSpec | undefined {
    const guard = this.guardOf(ref, at);
    if (!guard || !isMeasured(guard)) return guard;
    const webhook = isWebhookGuard(guard);
    if (webhook !== (guard.source.type === 'webhook'))
      return this.refuse(
        `${at}.source`,
        webhook
          ? `a status-code (webhook) guard needs a webhook source, not ${guard.source.type}`
          : `a webhook source answers only status-code (webhook) guards`,
      );
    return guard;
  }

  private guardOf(ref: GuardRef, at: string): GuardSpec | undefined {
    if (!('template' in ref)) {
      if (!('source' in ref)) return ref;
      const source = this.source(ref.source, `${at}.source`);
      return source && { ...ref, source };
    }
    const template = own(this.catalog.templates, ref.template);
    if (!template) return this.refuse(`${at}.template`, undeclared('template', ref.template));
    const args = templateArgs(template, ref.args, at);
    if (!args.ok) {
      this.issues.push(...args.issues);
      return undefined;
    }
    const body = expandTemplate(template, args.args) as Record<string, unknown>;
    // the template is the operator's: its source (a provider name or an inline URL) is trusted as written
    const parsed = InlineGuard.safeParse({ ...body, name: ref.name ?? ref.template });
    if (!parsed.success) {
      for (const issue of flattenIssues(parsed.error.issues))
        this.refuse(at, `template "${ref.template}" gives an invalid guard: ${issue.path}: ${issue.message}`);
      return undefined;
    }
    if (!('source' in parsed.data)) return GuardSpec.parse(parsed.data);
    const src = parsed.data.source;
    const source = typeof src === 'string' ? own(this.catalog.providers, src) : src;
    if (!source)
      return this.refuse(at, `template "${ref.template}" names provider "${String(src)}", which is not declared`);
    return GuardSpec.parse({ ...parsed.data, source });
  }

  notifier(ref: NotifierRef, at: string): Notifier | undefined {
    if (typeof ref === 'string')
      return own(this.catalog.notifiers, ref) ?? this.refuse(at, undeclared('notifier', ref));
    if ('log' in ref) return ref;
    return this.inlineUrl(ref.webhook.url, `${at}.webhook.url`) ? ref : undefined;
  }

  compensation(ref: CompensationRef, at: string): Compensation | undefined {
    if ('hook' in ref) {
      const hook = own(this.catalog.hooks, ref.hook);
      return hook ? { name: ref.hook, ...hook } : this.refuse(`${at}.hook`, undeclared('hook', ref.hook));
    }
    return this.inlineUrl(ref.http.url, `${at}.http.url`) ? ref : undefined;
  }
}

export interface ResolveOptions {
  /** Check the policy's allowed hours at this time (a first start; a continue-as-new is not a new start). */
  startingAt?: Date;
}

/**
 * The spec with every catalog name resolved and every inline part checked against what the catalog allows, then
 * checked against the target's policy; or every problem by path. Never throws.
 */
export function resolveSpec(spec: RolloutSpec, catalog: Catalog, options: ResolveOptions = {}): Resolution {
  const r = new Resolver(catalog);
  const target = r.target(spec.target);
  const guards = spec.guards.map((g, i) => r.guard(g, formatPath(['guards', i])));
  const notify = spec.notify.map((n, i) => r.notifier(n, formatPath(['notify', i])));
  const compensations = spec.rollback.compensations.map((c, i) =>
    r.compensation(c, formatPath(['rollback', 'compensations', i])),
  );
  if (r.issues.length > 0 || !target) return { ok: false, issues: r.issues };
  const resolved = ResolvedSpec.safeParse({
    ...spec,
    target,
    guards,
    notify,
    rollback: { ...spec.rollback, compensations },
  });
  if (!resolved.success) return { ok: false, issues: flattenIssues(resolved.error.issues) };
  const targetName =
    typeof spec.target === 'string' ? spec.target : 'type' in spec.target ? undefined : spec.target.name;
  // one flag, one name: an inline target may not write a catalog target's flag (and so dodge its policy, or run
  // beside it under another workflow ID)
  const shadowed = targetName === undefined ? sameFlagAs(resolved.data.target, catalog) : undefined;
  if (shadowed !== undefined) {
    return {
      ok: false,
      issues: [
        {
          path: 'target',
          message: `writes the flag of catalog target "${shadowed}": name it instead (target: ${shadowed})`,
        },
      ],
    };
  }
  const policy =
    (targetName !== undefined ? own(catalog.policy.targets, targetName) : undefined) ?? catalog.policy.default;
  const broken = policy ? checkPolicy(spec, policy, targetName, options.startingAt) : [];
  if (broken.length > 0) return { ok: false, issues: broken };
  return { ok: true, spec: resolved.data, ...(targetName !== undefined ? { targetName } : {}) };
}

/** The catalog target that writes the same flag (same file or URL) as `target`, if any. */
function sameFlagAs(target: TargetSpec, catalog: Catalog): string | undefined {
  const same = (t: TargetSpec) =>
    t.flag === target.flag &&
    ((t.type === 'flagd' && target.type === 'flagd' && t.root === target.root && samePath(t.path, target.path)) ||
      (t.type === 'http' && target.type === 'http' && sameUrl(t.url, target.url)));
  return Object.entries(catalog.targets).find(([, t]) => same(t))?.[0];
}

const samePath = (a: string, b: string) => normalizePath(a) === normalizePath(b);
const normalizePath = (p: string) =>
  p
    .split(/[\\/]+/)
    .filter((s) => s !== '' && s !== '.')
    .join('/');
const sameUrl = (a: string, b: string) => {
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
};

/** The name a rollout is known by before it runs: its catalog target's name, or an inline target's flag. */
export function targetKey(ref: TargetRef): string {
  if (typeof ref === 'string') return ref;
  return 'type' in ref ? ref.flag : ref.name;
}

/** Notifier references (a drill's) resolved against the catalog, or the problems by path under `at`. */
export function resolveNotifiers(
  refs: readonly NotifierRef[],
  catalog: Catalog,
  at: string,
): { ok: true; notifiers: Notifier[] } | { ok: false; issues: ValidationIssue[] } {
  const r = new Resolver(catalog);
  const notifiers = refs.map((n, i) => r.notifier(n, `${at}[${i}]`));
  if (r.issues.length > 0) return { ok: false, issues: r.issues };
  return { ok: true, notifiers: notifiers.filter((n): n is Notifier => n !== undefined) };
}
