import type { z } from 'zod';
import { STEP_KEYS } from './spec.js';

/** One validation problem: a dotted path (`steps[2].exposure`) and the rule it broke. */
export interface ValidationIssue {
  path: string;
  message: string;
}

/** Formats a zod path as `steps[2].exposure`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`;
    else out += out ? `.${String(key)}` : String(key);
  }
  return out || '(root)';
}

/**
 * Flattens zod issues into path + message pairs. Union failures (a step is one of several shapes) are
 * reduced to the branch the input was evidently meant to be, so users read `steps[1].approval.timeout: …`
 * rather than "Invalid input".
 */
export function flattenIssues(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  for (const issue of issues) {
    const path = [...prefix, ...issue.path];
    if (issue.code === 'invalid_union' && issue.errors.length > 0) {
      const best = pickBranch(issue.errors);
      if (best) {
        out.push(...flattenIssues(best, path));
        continue;
      }
      const last = path[path.length - 2];
      const what = last === 'steps' ? `one of the keys ${STEP_KEYS.join(', ')}` : 'one of the allowed shapes';
      out.push({ path: formatPath(path), message: `must be ${what}` });
      continue;
    }
    if (issue.code === 'unrecognized_keys') {
      out.push({
        path: formatPath(path),
        message: `unknown key${issue.keys.length > 1 ? 's' : ''}: ${issue.keys.join(', ')}`,
      });
      continue;
    }
    if (issue.code === 'invalid_type' && /received undefined/.test(issue.message)) {
      out.push({ path: formatPath(path), message: 'is required' });
      continue;
    }
    out.push({ path: formatPath(path), message: issue.message });
  }
  return out;
}

/** The branch whose identifying key was present: it has no "missing key" or "unknown key" issue at its root. */
function pickBranch(branches: readonly (readonly z.core.$ZodIssue[])[]): readonly z.core.$ZodIssue[] | undefined {
  const plausible = branches.filter((b) => !implausible(b));
  if (plausible.length === 1) return plausible[0];
  // otherwise the branch that accepts every key given and has the fewest problems (e.g. a guard missing its name)
  const keysFit = branches.filter(
    (b) =>
      !b.some((i) => i.code === 'unrecognized_keys' && i.path.length === 0) &&
      !b.some((i) => i.code === 'invalid_type' && i.path.length === 0),
  );
  const fewest = Math.min(...keysFit.map((b) => b.length));
  const best = keysFit.filter((b) => b.length === fewest);
  return best.length === 1 ? best[0] : undefined;
}

/**
 * A branch the input was evidently not meant to be: it has an unknown or missing key or a wrong type at its root,
 * or it is itself a union (a guard is a threshold or a comparison) every branch of which is implausible.
 */
function implausible(branch: readonly z.core.$ZodIssue[]): boolean {
  return branch.some(
    (i) =>
      (i.code === 'unrecognized_keys' && i.path.length === 0) ||
      (i.code === 'invalid_type' && i.path.length === 1 && /received undefined/.test(i.message)) ||
      (i.code === 'invalid_type' && i.path.length === 0) ||
      (i.code === 'invalid_union' && i.path.length === 0 && i.errors.length > 0 && i.errors.every(implausible)),
  );
}

/** One line per issue: `steps[2].exposure: must be ≤ 100`. */
export function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues.map((i) => `${i.path}: ${i.message}`).join('\n');
}
