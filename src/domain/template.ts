import type { GuardTemplate, TemplateArg } from './catalog.schema.js';
import type { TemplateArgValue } from './guard-spec.schema.js';
import type { ValidationIssue } from './validation.js';

/** `{{ args.NAME }}` anywhere in a string. */
const PLACEHOLDER = /\{\{\s*args\.([A-Za-z0-9_-]+)\s*\}\}/g;
/** A string that is one placeholder and nothing else: it takes the argument's own type. */
const WHOLE = /^\{\{\s*args\.([A-Za-z0-9_-]+)\s*\}\}$/;

type Json = string | number | boolean | null | Json[] | { [key: string]: Json };

const own = (record: object, key: string): boolean => Object.hasOwn(record, key);

/** Why `value` does not fit `arg`, or undefined when it does. */
export function argProblem(arg: TemplateArg, value: TemplateArgValue): string | undefined {
  switch (arg.type) {
    case 'string': {
      if (typeof value !== 'string') return 'must be a string';
      if (arg.enum && !arg.enum.includes(value)) return `must be one of ${arg.enum.join(', ')}`;
      if (!fullMatch(arg.pattern, value)) return `must match ${arg.pattern}`;
      return undefined;
    }
    case 'number':
      if (typeof value !== 'number') return 'must be a number';
      if (arg.min !== undefined && value < arg.min) return `must be ≥ ${arg.min}`;
      if (arg.max !== undefined && value > arg.max) return `must be ≤ ${arg.max}`;
      return undefined;
    case 'boolean':
      return typeof value === 'boolean' ? undefined : 'must be true or false';
  }
}

/**
 * The whole value matches (a pattern without anchors would otherwise accept any value containing a match, and the
 * first alternative to match a prefix would hide one that matches the whole). A pattern that does not compile
 * matches nothing; the catalog refuses such patterns when it loads.
 */
function fullMatch(pattern: string, value: string): boolean {
  try {
    return new RegExp(`^(?:${pattern})$`, 'u').test(value);
  } catch {
    return false;
  }
}

/** Whether an operator's pattern compiles as a regular expression. */
export function isPattern(pattern: string): boolean {
  try {
    new RegExp(pattern, 'u');
    return true;
  } catch {
    return false;
  }
}

/** The arguments a template call passes, defaults filled in, or the problems by path under `at`. */
export function templateArgs(
  template: GuardTemplate,
  given: Readonly<Record<string, TemplateArgValue>>,
  at: string,
): { ok: true; args: Record<string, TemplateArgValue> } | { ok: false; issues: ValidationIssue[] } {
  const issues: ValidationIssue[] = [];
  const args: Record<string, TemplateArgValue> = Object.create(null) as Record<string, TemplateArgValue>;
  for (const name of Object.keys(given)) {
    if (!own(template.args, name))
      issues.push({ path: `${at}.args.${name}`, message: 'is not an argument of the template' });
  }
  for (const [name, arg] of Object.entries(template.args)) {
    const value = own(given, name) ? given[name] : arg.default;
    if (value === undefined) {
      issues.push({ path: `${at}.args.${name}`, message: 'is required by the template' });
      continue;
    }
    const problem = argProblem(arg, value);
    if (problem) issues.push({ path: `${at}.args.${name}`, message: problem });
    else args[name] = value;
  }
  return issues.length > 0 ? { ok: false, issues } : { ok: true, args };
}

/** The template's guard body with every placeholder replaced by its argument. */
export function expandTemplate(template: GuardTemplate, args: Readonly<Record<string, TemplateArgValue>>): Json {
  const walk = (value: unknown): Json => {
    if (typeof value === 'string') {
      const whole = WHOLE.exec(value);
      if (whole && own(args, whole[1]!)) return args[whole[1]!]!;
      return value.replace(PLACEHOLDER, (text, name: string) => (own(args, name) ? String(args[name]) : text));
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value !== null && typeof value === 'object') {
      const out: Record<string, Json> = {};
      for (const [k, v] of Object.entries(value)) out[k] = walk(v);
      return out;
    }
    return value as Json;
  };
  return walk(template.guard);
}

/** Every `{{ args.NAME }}` in the template's body whose NAME the template does not declare (a typo stays text). */
export function undeclaredPlaceholders(template: GuardTemplate): string[] {
  const found = new Set<string>();
  const walk = (value: unknown): void => {
    if (typeof value === 'string') {
      for (const m of value.matchAll(PLACEHOLDER)) if (!own(template.args, m[1]!)) found.add(m[1]!);
    } else if (Array.isArray(value)) value.forEach(walk);
    else if (value !== null && typeof value === 'object') Object.values(value).forEach(walk);
  };
  walk(template.guard);
  return [...found];
}

/** Sample arguments (defaults, else a value of the right type) to check a template's body when the catalog loads. */
export function sampleArgs(template: GuardTemplate): Record<string, TemplateArgValue> {
  const out: Record<string, TemplateArgValue> = {};
  for (const [name, arg] of Object.entries(template.args)) {
    if (arg.default !== undefined) out[name] = arg.default;
    else if (arg.type === 'string') out[name] = arg.enum?.[0] ?? 'x';
    else if (arg.type === 'number') out[name] = arg.min ?? arg.max ?? 1;
    else out[name] = false;
  }
  return out;
}
