import { paint, useColour } from '../view/colour.js';
import { userInfo } from 'node:os';
import type { Client } from '@temporalio/client';
import { RolloutClient } from '../client/rollout-client.js';
import { rolloutIdFromIdOrFlag } from '../domain/ids.js';
import { connectClient, loadTemporalSettings } from '../temporal/connection.js';
import { workflowWebUiUrl } from '../temporal/web-ui.js';
import { escapeControls, terminalJson } from '../view/terminal-text.js';

/** Exit codes: 0 ok, 1 operation failed or rollout ended badly, 2 usage or invalid input. */
export const EXIT = { ok: 0, failed: 1, usage: 2 } as const;

/** Connects with Temporal's standard environment (TEMPORAL_ADDRESS, profiles, API key, TLS). */
export async function cliClient(): Promise<{ rollouts: RolloutClient; client: Client; namespace: string }> {
  const settings = loadTemporalSettings();
  const client = await connectClient(settings);
  return { rollouts: new RolloutClient(client), client, namespace: settings.namespace };
}

/** The Web UI link for a workflow: `ROLLOUT_UI_URL`, or the embedded dev server's UI when nothing else is configured. */
export function uiLink(workflowId: string, namespace: string): string | undefined {
  const settings = loadTemporalSettings();
  const base = process.env.ROLLOUT_UI_URL ?? (settings.explicit ? undefined : 'http://127.0.0.1:8233');
  return base ? workflowWebUiUrl(base, namespace, workflowId) : undefined;
}

/** How the CLI labels who acts: it talks to Temporal directly, so nobody vouched for the name. */
export const UNAUTHENTICATED = ' (unauthenticated)';

/**
 * The acting user as history and status record it: `--actor`, else the OS user, labelled unauthenticated. Only the
 * HTTP API authenticates a caller (its principal is the actor), so a step restricted to `approvers` is approved
 * through the API; direct Temporal access is trusted at Temporal's own level (its mTLS or authorizer).
 */
export function actorOf(opts: { actor?: string }): string {
  return `${opts.actor ?? osUser()}${UNAUTHENTICATED}`;
}

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

/** Accepts `rollout/<flag>` or just `<flag>`. */
export function rolloutId(id: string): string {
  return rolloutIdFromIdOrFlag(id);
}

/** Prints `value` as indented JSON, control characters in its strings escaped (it still parses the same). */
export function printJson(value: unknown): void {
  process.stdout.write(`${terminalJson(value)}\n`);
}

/**
 * Prints each line to stdout with its control characters escaped. What the CLI prints (reasons, causes, names,
 * guard details) mostly comes from callers; a line break inside one of them is escaped too, so it cannot pass
 * for a line of its own.
 */
export function printLines(...lines: string[]): void {
  process.stdout.write(lines.map((line) => `${escapeControls(line)}\n`).join(''));
}

/**
 * {@link printLines} with phases and verdicts coloured when stdout is a terminal (never on a pipe; NO_COLOR turns it
 * off). The colour is added after control characters from callers are escaped, so it is the only escape printed.
 */
export function printStatusLines(...lines: string[]): void {
  const colour = useColour(process.stdout);
  process.stdout.write(
    lines.map((line) => `${colour ? paint(escapeControls(line)) : escapeControls(line)}\n`).join(''),
  );
}

/** {@link printLines} on stderr. */
export function printErrorLines(...lines: string[]): void {
  process.stderr.write(lines.map((line) => `${escapeControls(line)}\n`).join(''));
}
