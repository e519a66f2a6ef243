/*
 * How much of a caller's text and lists a rollout keeps. Specs and commands come from other services, and whatever
 * they send may end up in workflow history, in `status` and in the result, each of which Temporal refuses beyond
 * 2 MB (a refused result terminates the run, with no rollback). The schemas refuse anything longer at the edge; the
 * workflow truncates what reaches it past the edge (any Temporal SDK can signal a running rollout). Zod-free:
 * workflow code imports this module.
 */

/** Spec and drill names (`[a-z0-9-]`, a Kubernetes-style label). */
export const MAX_NAME = 63;
/** A target's flag key (the limit `target-spec.schema.ts` sets); a rollout's workflow ID is `rollout/` and the flag. */
export const MAX_FLAG = 200;
/** Names of steps, guards and compensations, and labels such as a cohort attribute or a guard's `perCohort`. */
export const MAX_LABEL = 100;
/** Who acts: a command's actor, an approver, a cohort value. */
export const MAX_ACTOR = 200;
/** Free text a person writes: a command's reason or comment, a breach's reason. */
export const MAX_TEXT = 1_000;
/** A spec's description. */
export const MAX_DESCRIPTION = 2_000;
/** A metric query (PromQL, a JSON path, a scrape expression). */
export const MAX_QUERY = 4_000;
/** A URL in a spec. */
export const MAX_URL = 2_048;
/** A header value of a compensation hook. */
export const MAX_HEADER_VALUE = 4_000;
/** Where a breach came from (`alertmanager`, a service's name). */
export const MAX_SOURCE = 200;
/** The name of an environment variable the catalog reads a secret from. */
export const MAX_ENV_NAME = 128;
/** A name in the operator's catalog that a spec refers to (a target, provider, template, notifier, hook). */
export const MAX_CATALOG_NAME = 63;
/** Arguments a spec passes to a guard template, and each string argument's length. */
export const MAX_TEMPLATE_ARGS = 20;
export const MAX_TEMPLATE_ARG = 200;
/** A path a spec or drill names (a file next to it). */
export const MAX_PATH = 1_024;
/** A duration string; its value is capped separately ({@link MAX_DURATION_MS}). */
export const MAX_DURATION_TEXT = 32;
/** The longest window, pause, approval timeout or interval: 90 days. Longer is a typo or an attack. */
export const MAX_DURATION_MS = 90 * 86_400_000;

/** Lists a caller could otherwise make thousands long. */
export const MAX_STEPS = 100;
export const MAX_GUARDS = 50;
export const MAX_COMPENSATIONS = 20;
export const MAX_NOTIFIERS = 20;
export const MAX_APPROVERS = 50;
export const MAX_COHORT_VALUES = 100;
export const MAX_HEADERS = 50;

/** Operator pauses held at once: each keeps its reason in state, and a pause adds one more until resumed. */
export const MAX_OPERATOR_PAUSES = 20;

/** A whole spec, as JSON after validation: the workflow's input and what continue-as-new carries. */
export const MAX_SPEC_BYTES = 256 * 1024;
/** A spec's text (YAML or JSON), refused before it is parsed. The HTTP API's default body limit is the same. */
export const MAX_SPEC_TEXT_BYTES = 256 * 1024;
/** YAML aliases a spec may expand: anchors are handy, an alias bomb ("billion laughs") is not. */
export const MAX_YAML_ALIASES = 100;

/**
 * Pushed-breach measurements a rollout keeps per guard: the first ones and the latest. Every breach still counts
 * against the guard's `failureLimit` (`state.breaches`); only the record of each one is not kept beyond this.
 */
export const MAX_BREACH_RECORDS_PER_GUARD = 10;

/** Bytes of `text` in UTF-8, counted without Node's Buffer (workflow code replays this module too). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code <= 0xdbff && i + 1 < text.length) {
      bytes += 4;
      i += 1;
    } else bytes += 3;
  }
  return bytes;
}

/** The mark a truncated text ends with. */
export const TRUNCATION_MARK = '…';

/** `text` cut to at most `max` characters, its end marked with `…` when anything was cut. */
export function truncate(text: string, max: number): string {
  if (text.length <= max) return text;
  if (max <= 0) return '';
  // never split a surrogate pair: half a character would not survive the JSON round trip intact
  let end = max - TRUNCATION_MARK.length;
  const code = text.charCodeAt(end - 1);
  if (code >= 0xd800 && code <= 0xdbff) end -= 1;
  return `${text.slice(0, Math.max(0, end))}${TRUNCATION_MARK}`;
}

/**
 * A value a caller sent where text belongs, as bounded text: a string truncated, a number or boolean as written,
 * anything else by its kind (`(object)`), so a wrongly typed field is shown rather than thrown over.
 */
export function boundedText(value: unknown, max: number): string {
  if (typeof value === 'string') return truncate(value, max);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined)
    return truncate(String(value), max);
  return Array.isArray(value) ? '(array)' : `(${typeof value})`;
}
