import type { temporal } from '@temporalio/proto';

type History = temporal.api.history.v1.IHistory;
/** Fields to leave out, by name (e.g. `searchAttributes`, which are indexed and so never encrypted). */
export interface HistoryFilter {
  skip?: readonly string[];
}

/**
 * A workflow history as one searchable string: the event JSON with every byte field (payload data and metadata)
 * spelled out as UTF-8 text. `JSON.stringify` alone would show payloads as base64 (protobuf messages' own `toJSON`),
 * so a plaintext secret inside a payload would pass a naive search; this is what anyone with history access can read.
 */
export function historyText(history: History | undefined | null, filter: HistoryFilter = {}): string {
  const plain = (node: unknown): unknown => {
    if (node instanceof Uint8Array) return Buffer.from(node).toString('utf8');
    if (Array.isArray(node)) return node.map(plain);
    if (!node || typeof node !== 'object') return node;
    if ('low' in node && 'high' in node && 'unsigned' in node) return String(node); // a Long
    const entries = Object.entries(node).filter(([key]) => !filter.skip?.includes(key));
    return Object.fromEntries(entries.map(([key, value]) => [key, plain(value)]));
  };
  return JSON.stringify(plain(history ?? {}));
}

/** Every payload in a history: inputs, results, update arguments, heartbeats, user metadata, failures' details … */
export function historyPayloads(
  history: History | undefined | null,
  filter: HistoryFilter = {},
): temporal.api.common.v1.IPayload[] {
  const out: temporal.api.common.v1.IPayload[] = [];
  const visit = (node: unknown): void => {
    if (!node || typeof node !== 'object' || node instanceof Uint8Array) return;
    if (Array.isArray(node)) return node.forEach(visit);
    const obj = node as Record<string, unknown>;
    if (obj.metadata && typeof obj.metadata === 'object' && 'encoding' in obj.metadata) {
      out.push(obj as temporal.api.common.v1.IPayload);
      return;
    }
    for (const [key, value] of Object.entries(obj)) if (!filter.skip?.includes(key)) visit(value);
  };
  visit(history?.events ?? []);
  return out;
}
