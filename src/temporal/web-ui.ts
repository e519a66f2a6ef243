/**
 * A workflow's page in the Temporal Web UI: its latest run, or with `runId` that run's history.
 * `uiUrl` is the UI's base URL (`http://127.0.0.1:8233`); trailing slashes are dropped.
 */
export function workflowWebUiUrl(uiUrl: string, namespace: string, workflowId: string, runId?: string): string {
  const page = `${uiUrl.replace(/\/+$/, '')}/namespaces/${encodeURIComponent(namespace)}/workflows/${encodeURIComponent(workflowId)}`;
  return runId === undefined ? page : `${page}/${encodeURIComponent(runId)}/history`;
}
