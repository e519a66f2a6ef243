import { readFile, stat } from 'node:fs/promises';
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { MAX_SPEC_TEXT_BYTES, MAX_YAML_ALIASES } from '../domain/bounds.js';
import { RolloutSpec } from '../domain/spec.schema.js';
import { Catalog } from '../domain/catalog.schema.js';
import { flattenIssues, type ValidationIssue } from '../domain/validation.js';
import { ValidationError } from '../errors.js';

export type SpecResult = { ok: true; spec: RolloutSpec } | { ok: false; issues: ValidationIssue[] };
/** YAML or JSON text read into a value, or the one reason it could not be (size, syntax, aliases). */
export type TextResult = { ok: true; value: unknown } | { ok: false; problem: string };

const kb = (bytes: number) => `${Math.ceil(bytes / 1024)} KB`;
const tooLarge = (bytes: number) =>
  `too large (${kb(bytes)}; a spec may be at most ${kb(MAX_SPEC_TEXT_BYTES)} of YAML or JSON)`;

/** Validates an already-parsed value against the spec schema. Never throws. */
export function validateSpec(value: unknown): SpecResult {
  try {
    const result = RolloutSpec.safeParse(value);
    if (result.success) return { ok: true, spec: result.data };
    return { ok: false, issues: flattenIssues(result.error.issues) };
  } catch (err) {
    // a value nested deeper than the stack (JSON bodies are not limited in depth) is refused, not a server error
    if (err instanceof RangeError) return { ok: false, issues: [{ path: '(root)', message: 'is nested too deeply' }] };
    throw err;
  }
}

/**
 * Reads YAML or JSON text (JSON is YAML) into a plain value. Never throws: text over {@link MAX_SPEC_TEXT_BYTES},
 * a syntax error (with its line) and an alias bomb (more than {@link MAX_YAML_ALIASES} aliases expanded: a few
 * hundred bytes of "billion laughs" would otherwise expand to gigabytes) each come back as one line.
 */
export function readYamlText(text: string): TextResult {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_SPEC_TEXT_BYTES) return { ok: false, problem: tooLarge(bytes) };
  try {
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    const [error] = doc.errors;
    if (error) return { ok: false, problem: `syntax: ${error.message.split('\n')[0]}` };
    return { ok: true, value: doc.toJS({ maxAliasCount: MAX_YAML_ALIASES }) };
  } catch (err) {
    // the yaml library throws a ReferenceError when aliases expand past maxAliasCount
    if (err instanceof ReferenceError)
      return { ok: false, problem: `too many YAML aliases (at most ${MAX_YAML_ALIASES} may be expanded)` };
    if (err instanceof RangeError) return { ok: false, problem: 'nested too deeply' };
    throw err;
  }
}

/** Parses YAML or JSON text and validates it; a text that cannot be read is one issue at `(root)`. */
export function parseSpecText(text: string): SpecResult {
  const read = readYamlText(text);
  if (!read.ok) return { ok: false, issues: [{ path: '(root)', message: read.problem }] };
  return validateSpec(read.value);
}

/**
 * Reads a YAML or JSON file into a plain value; a file that cannot be read, is too large (checked before reading)
 * or is not YAML throws a {@link ValidationError} whose message is one line naming the file.
 */
export async function readYamlFile(path: string): Promise<unknown> {
  let text: string;
  try {
    const { size } = await stat(path);
    if (size > MAX_SPEC_TEXT_BYTES) throw new ValidationError(`${path}: ${tooLarge(size)}`, []);
    text = await readFile(path, 'utf8');
  } catch (err) {
    if (err instanceof ValidationError) throw err;
    throw new ValidationError(
      `cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
      [],
    );
  }
  const read = readYamlText(text);
  if (!read.ok) throw new ValidationError(`${path}: ${read.problem}`, []);
  return read.value;
}

/** The JSON Schema of the spec as users write it (defaults optional), for editors. */
export function specJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(RolloutSpec, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
}

/** The JSON Schema of the operator's catalog (`rollout.config.yaml`), for editors. */
export function catalogJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(Catalog, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
}
