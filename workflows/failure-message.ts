/**
 * What went wrong, in the words of whoever failed: an activity's failure arrives wrapped (`ActivityFailure:
 * Activity task failed`); the adapter's own explanation is its cause. The raw causes below that are not shown.
 */
export function causeMessage(err: unknown): string {
  let e = err as { name?: string; message?: string; cause?: unknown } | undefined;
  while (e && e.name === 'ActivityFailure' && e.cause) e = e.cause as typeof e;
  return e?.message ?? String(err);
}
