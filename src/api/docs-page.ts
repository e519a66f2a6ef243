/*
 * The API's reference page, rendered on the server from the same OpenAPI document `/openapi.json` serves: every
 * route with its method, summary, roles, body schema and responses, then every schema. Static HTML, no script and
 * no third-party asset, so it works offline and under a CSP that allows nothing but its own inline style.
 */

import { esc as escText } from '../report/svg.js';

type Json = Record<string, unknown>;

const esc = (s: unknown): string => escText(String(s));

const refName = (schema: unknown): string | undefined => {
  const ref = (schema as { $ref?: unknown } | undefined)?.$ref;
  return typeof ref === 'string' ? ref.replace('#/components/schemas/', '') : undefined;
};

function schemaLink(schema: unknown): string {
  const name = refName(schema);
  return name ? `<a href="#schema-${esc(name)}">${esc(name)}</a>` : `<code>${esc(JSON.stringify(schema))}</code>`;
}

function operation(path: string, method: string, op: Json): string {
  const body = (op.requestBody as { content?: Record<string, { schema?: unknown }> } | undefined)?.content;
  const bodyTypes = body ? Object.keys(body) : [];
  const bodySchema = bodyTypes.length ? body![bodyTypes[0]!]!.schema : undefined;
  const responses = Object.entries(
    (op.responses as Record<string, { description?: string; content?: Record<string, { schema?: unknown }> }>) ?? {},
  );
  const open = Array.isArray(op.security) && op.security.length === 0;
  return `<section class="op" id="${esc(`${method}-${path}`)}">
<h3><span class="method ${esc(method)}">${esc(method.toUpperCase())}</span> <code>${esc(path)}</code></h3>
<p>${esc(op.summary ?? '')}</p>
<p class="muted">${open ? 'no token needed' : 'bearer token (or the dashboard session)'}${op.description ? ` · ${esc(op.description)}` : ''}</p>
${bodySchema ? `<p>Body (${esc(bodyTypes.join(', '))}): ${schemaLink(bodySchema)}</p>` : ''}
<table><tr><th>status</th><th>meaning</th><th>body</th></tr>
${responses
  .map(([code, r]) => {
    const content = r.content ? Object.values(r.content)[0]?.schema : undefined;
    return `<tr><td>${esc(code)}</td><td>${esc(r.description ?? '')}</td><td>${content ? schemaLink(content) : ''}</td></tr>`;
  })
  .join('\n')}
</table></section>`;
}

/** The reference page for an OpenAPI 3.1 document. */
export function renderApiDocs(doc: Json): string {
  const info = (doc.info ?? {}) as { title?: string; version?: string };
  const paths = Object.entries((doc.paths ?? {}) as Record<string, Record<string, Json>>);
  const schemas = Object.entries(((doc.components as Json | undefined)?.schemas ?? {}) as Record<string, unknown>);
  const ops = paths.flatMap(([path, methods]) => Object.entries(methods).map(([method, op]) => ({ path, method, op })));
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(info.title)} — reference</title>
<style>
body{font:14px/1.45 system-ui,sans-serif;color:#1d2329;max-width:1100px;margin:0 auto;padding:16px 20px}
code{font:12.5px ui-monospace,Menlo,Consolas,monospace}
.op{border:1px solid #d9dee3;border-radius:4px;padding:8px 12px;margin:10px 0}
.method{display:inline-block;min-width:56px;text-align:center;border-radius:3px;color:#fff;font-size:12px;padding:2px 6px}
.get{background:#2563eb}.post{background:#2f9e55}.delete{background:#d62828}
table{border-collapse:collapse}th,td{text-align:left;padding:3px 10px;border-bottom:1px solid #e3e6ea;vertical-align:top}
.muted{color:#5a6470}pre{background:#f6f7f9;padding:8px;overflow:auto;font-size:12px}
</style></head><body>
<h1>${esc(info.title)} <span class="muted">API ${esc(info.version)}</span></h1>
<p>Generated from the routes' own definitions, as <a href="/openapi.json">/openapi.json</a> (OpenAPI ${esc(doc.openapi)}).</p>
<h2>Routes</h2>
<ul>${ops.map(({ path, method }) => `<li><a href="#${esc(`${method}-${path}`)}">${esc(method.toUpperCase())} ${esc(path)}</a></li>`).join('')}</ul>
${ops.map(({ path, method, op }) => operation(path, method, op)).join('\n')}
<h2>Schemas</h2>
${schemas.map(([name, schema]) => `<section id="schema-${esc(name)}"><h3>${esc(name)}</h3><pre>${esc(JSON.stringify(schema, null, 2))}</pre></section>`).join('\n')}
</body></html>
`;
}
