/*
 * `scheme://` then the authority up to its last `@` (WHATWG URLs split userinfo from host there); the authority
 * ends at the first `/`, `?`, `#` or whitespace. Greedy on purpose: `http://a@b@host` hides `a@b`.
 */
const USERINFO = /\b([A-Za-z][A-Za-z0-9+.-]*:\/\/)[^\s/?#]*@/g;

/**
 * `text` with the userinfo (`user:password@`) of every URL in it replaced by `***@`. Takes a bare URL or a whole
 * message, because runtime errors (fetch's among them) quote the URL they were given, credentials included.
 */
export function redactUrl(text: string): string {
  return text.replace(USERINFO, '$1***@');
}
