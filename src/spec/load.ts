import { readFile } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { RolloutSpec } from '../domain/spec.schema.js';
import { describeIssues, flattenIssues, type ValidationIssue } from '../domain/validation.js';
import { ValidationError } from '../errors.js';

export type SpecResult = { ok: true; spec: RolloutSpec } | { ok: false; issues: ValidationIssue[] };

/** Validates an already-parsed value against the spec schema. Never throws. */
export function validateSpec(value: unknown): SpecResult {
  const result = RolloutSpec.safeParse(value);
  if (result.success) return { ok: true, spec: result.data };
  return { ok: false, issues: flattenIssues(result.error.issues) };
}

/** Parses YAML or JSON text (JSON is YAML) and validates it; syntax errors are issues at `(root)` with line numbers. */
export function parseSpecText(text: string): SpecResult {
  const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    return {
      ok: false,
      issues: doc.errors.map((e) => ({ path: '(root)', message: `syntax: ${e.message.split('\n')[0]}` })),
    };
  }
  return validateSpec(doc.toJS({ maxAliasCount: 100 }));
}

/** Reads and validates a spec file; throws a {@link ValidationError} listing every problem. */
export async function loadSpecFile(path: string): Promise<RolloutSpec> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new ValidationError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      [],
    );
  }
  const result = parseSpecText(text);
  if (!result.ok) {
    throw new ValidationError(`${path} is not a valid rollout spec:\n${describeIssues(result.issues)}`, result.issues);
  }
  return result.spec;
}

/** The JSON Schema of the spec as users write it (defaults optional), for editors. */
export function specJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(RolloutSpec, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
}
