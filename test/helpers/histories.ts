import { readdir, readFile } from 'node:fs/promises';
import { historyFromJSON } from '@temporalio/common/lib/proto-utils.js';
import type { temporal } from '@temporalio/proto';

/**
 * Checked-in event histories, one set per workflow version: `v1` was recorded before `ROLLOUT_V2_PATCH`
 * (spec check in a local activity, leaner search-attribute upserts), `v2` after it and before `ROLLOUT_V3_PATCH`
 * (decisions recorded by operator commands are published on their own), `v3` after it and before `ROLLOUT_V4_PATCH`
 * (a preflight before the first exposure change), `v4` after it and before `ROLLOUT_V5_PATCH` (guards over the whole
 * rollout, one tally per guard, refused breaches), `v5` after it and before `ROLLOUT_V6_PATCH` (promote with `full`),
 * `v6` after. Every set must keep replaying against the current code.
 */
export const HISTORIES = new URL('../replay/histories/', import.meta.url);
export const CURRENT_HISTORY_SET = 'v8';

export interface RecordedHistory {
  set: string;
  name: string;
  /** The workflow ID it ran under (a drill's child ID derives from its parent's, so replay needs the real one). */
  workflowId: string;
  history: temporal.api.history.v1.IHistory;
  events: number;
}

export async function historySets(): Promise<string[]> {
  return (await readdir(HISTORIES, { withFileTypes: true }))
    .filter((d) => d.isDirectory())
    .map((d) => d.name)
    .sort();
}

/** Every history of one set (or of all sets), sorted by set and name. */
export async function loadHistories(set?: string): Promise<RecordedHistory[]> {
  const sets = set ? [set] : await historySets();
  const out: RecordedHistory[] = [];
  for (const s of sets) {
    const dir = new URL(`${s}/`, HISTORIES);
    const ids = JSON.parse(await readFile(new URL('ids.json', dir), 'utf8').catch(() => '{}')) as Record<
      string,
      string
    >;
    const files = (await readdir(dir)).filter((f) => f.endsWith('.json') && f !== 'ids.json').sort();
    for (const file of files) {
      const name = file.replace(/\.json$/, '');
      const history = historyFromJSON(JSON.parse(await readFile(new URL(file, dir), 'utf8')));
      out.push({ set: s, name, workflowId: ids[name] ?? name, history, events: history.events?.length ?? 0 });
    }
  }
  return out;
}

/** Whether a history recorded the given patch marker (so replay took the patched branch). */
export function hasPatchMarker(history: temporal.api.history.v1.IHistory, patchId: string): boolean {
  return (history.events ?? []).some((e) => {
    const marker = e.markerRecordedEventAttributes;
    if (marker?.markerName !== 'core_patch') return false;
    const data = marker.details?.['patch-data']?.payloads?.[0]?.data;
    if (!data) return false;
    return (JSON.parse(Buffer.from(data).toString('utf8')) as { id?: string }).id === patchId;
  });
}
