/*
 * The dashboard's page and script, served by the HTTP API at `/` and `/dashboard.js`. Plain HTML and JavaScript,
 * no build step: the script reads the same JSON routes as any client (`/me`, `/rollouts`, `/rollouts/{id}`), with
 * the session cookie, and draws the report's SVG (`/rollouts/{id}/report.svg`) as an image. Every text a caller
 * supplied is set with `textContent`, never parsed as HTML; the Content-Security-Policy allows this script only.
 */

export const DASHBOARD_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rollout-orchestrator</title>
<style>
  :root { --fg: #1d2329; --muted: #5a6470; --line: #d9dee3; --ok: #2f9e55; --bad: #d62828; --warn: #c98a00; --accent: #2563eb; }
  * { box-sizing: border-box; }
  body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; color: var(--fg); margin: 0; background: #f6f7f9; }
  header { display: flex; align-items: center; gap: 16px; padding: 10px 20px; background: #fff; border-bottom: 1px solid var(--line); }
  header h1 { font-size: 16px; margin: 0; }
  header a { color: var(--fg); text-decoration: none; }
  header .who { margin-left: auto; color: var(--muted); }
  main { padding: 16px 20px; max-width: 1200px; }
  table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
  th, td { text-align: left; padding: 6px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .03em; }
  .phase { font-weight: 600; }
  .phase-Completed { color: var(--ok); } .phase-RolledBack, .phase-Aborted, .phase-Failed, .phase-RollingBack { color: var(--bad); }
  .phase-AwaitingApproval, .phase-Paused { color: var(--warn); }
  .filters { display: flex; gap: 8px; margin-bottom: 12px; align-items: center; }
  input, select, button { font: inherit; padding: 5px 8px; border: 1px solid var(--line); border-radius: 4px; background: #fff; }
  button { cursor: pointer; }
  button.primary { background: var(--accent); color: #fff; border-color: var(--accent); }
  button.danger { background: var(--bad); color: #fff; border-color: var(--bad); }
  .steps { display: flex; gap: 4px; margin: 12px 0; flex-wrap: wrap; }
  .step { padding: 6px 10px; border-radius: 4px; background: #e8ebef; color: var(--muted); font-size: 13px; }
  .step.done { background: #d8f0e0; color: #1f6b3a; } .step.current { background: var(--accent); color: #fff; }
  .step.interrupted { background: #f8d7d7; color: #8a1c1c; }
  .panel { background: #fff; border: 1px solid var(--line); border-radius: 4px; padding: 12px 14px; margin-bottom: 14px; }
  .panel h2 { font-size: 14px; margin: 0 0 8px; }
  .facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; }
  .facts dt { color: var(--muted); } .facts dd { margin: 0; }
  .actions { display: flex; gap: 8px; flex-wrap: wrap; align-items: center; }
  .actions input { min-width: 280px; }
  .error { color: var(--bad); margin-top: 8px; min-height: 1em; }
  .report img { max-width: 100%; border: 1px solid var(--line); background: #fff; }
  .timeline li { margin-bottom: 2px; } .muted { color: var(--muted); }
  #login { max-width: 420px; margin: 60px auto; }
</style>
</head>
<body>
<header><h1><a href="#/">rollout-orchestrator</a></h1><a href="/docs" id="api-docs">API reference</a><span class="who" id="who"></span></header>
<main id="app"><p class="muted">Loading…</p></main>
<script src="/dashboard.js"></script>
</body>
</html>
`;

export const DASHBOARD_JS = String.raw`'use strict';
(() => {
  const app = document.getElementById('app');
  const who = document.getElementById('who');
  const PHASES = ['Pending', 'Progressing', 'Observing', 'AwaitingApproval', 'Paused', 'RollingBack', 'Completed', 'RolledBack', 'Aborted', 'Failed'];
  const TERMINAL = ['Completed', 'RolledBack', 'Aborted', 'Failed'];
  let me = null;
  let timer = null;
  let generation = 0;

  const el = (tag, attrs = {}, ...children) => {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k === 'text') node.textContent = String(v);
      else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, String(v));
    }
    for (const c of children) if (c !== null && c !== undefined) node.append(c);
    return node;
  };
  const api = async (method, path, body) => {
    const res = await fetch(path, {
      method,
      credentials: 'same-origin',
      headers: { 'x-rollout-csrf': '1', ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let json = null;
    try { json = text ? JSON.parse(text) : null; } catch { json = { error: text }; }
    return { status: res.status, json };
  };
  const can = (role) => !!me && (me.roles.includes('admin') || me.roles.includes(role));
  // one poller at a time: a new page (or stop) ends the one before, even while its request is in flight
  const stop = () => { generation += 1; if (timer) clearTimeout(timer); timer = null; };
  const every = (ms, fn) => {
    stop();
    const gen = generation;
    const tick = async () => { await fn(); if (gen === generation) timer = setTimeout(tick, ms); };
    timer = setTimeout(tick, ms);
  };

  function login(message) {
    stop();
    who.textContent = '';
    const token = el('input', { type: 'password', id: 'token', placeholder: 'your API token', autocomplete: 'current-password' });
    const error = el('div', { class: 'error', id: 'login-error', text: message || '' });
    const form = el('form', { class: 'panel', id: 'login', onsubmit: async (e) => {
      e.preventDefault();
      const res = await api('POST', '/session', { token: token.value });
      if (res.status === 204) { token.value = ''; await start(); }
      else error.textContent = (res.json && res.json.error) || 'login failed';
    } },
      el('h2', { text: 'Sign in' }),
      el('p', { class: 'muted', text: 'With a principal\'s API token. It is kept in an HttpOnly cookie for this site only.' }),
      el('div', { class: 'actions' }, token, el('button', { class: 'primary', type: 'submit', id: 'login-button', text: 'Sign in' })),
      error);
    app.replaceChildren(form);
    token.focus();
  }

  async function start() {
    const res = await api('GET', '/me');
    if (res.status === 401) return login();
    me = res.json;
    who.replaceChildren(
      el('span', { text: me.name + ' (' + me.roles.join(', ') + ') ' }),
      el('button', { id: 'logout', text: 'Sign out', onclick: async () => { await api('DELETE', '/session'); me = null; login('Signed out.'); } }),
    );
    route();
  }

  function route() {
    stop();
    const hash = decodeURIComponent(location.hash.replace(/^#/, ''));
    if (hash.startsWith('/rollout/')) return showRollout(hash.slice('/rollout/'.length));
    return showList();
  }

  function showList() {
    const phase = el('select', { id: 'filter-phase' }, el('option', { value: '', text: 'any phase' }), ...PHASES.map((p) => el('option', { value: p, text: p })));
    const target = el('input', { id: 'filter-target', placeholder: 'target flag' });
    const body = el('tbody', { id: 'rollouts' });
    const table = el('table', {}, el('thead', {}, el('tr', {}, ...['rollout', 'phase', 'step', 'exposure', 'started'].map((h) => el('th', { text: h })))), body);
    const error = el('div', { class: 'error' });
    const load = async () => {
      const q = new URLSearchParams();
      if (phase.value) q.set('phase', phase.value);
      if (target.value.trim()) q.set('target', target.value.trim());
      const res = await api('GET', '/rollouts' + (q.size ? '?' + q : ''));
      if (res.status === 401) return login('Your session ended.');
      if (res.status !== 200) { error.textContent = (res.json && res.json.error) || 'cannot list rollouts'; return; }
      error.textContent = '';
      const rows = (res.json.rollouts || res.json).map((r) => el('tr', { 'data-id': r.workflowId },
        el('td', {}, el('a', { href: '#/rollout/' + encodeURIComponent(r.workflowId), text: r.workflowId })),
        el('td', { class: 'phase phase-' + (r.phase || ''), text: r.phase || r.status }),
        el('td', { text: r.step === null || r.step === undefined ? '—' : String(r.step + 1) }),
        el('td', { text: r.exposure === null || r.exposure === undefined ? '—' : r.exposure + ' %' }),
        el('td', { text: new Date(r.startTime).toLocaleString() })));
      body.replaceChildren(...(rows.length ? rows : [el('tr', {}, el('td', { colspan: 5, class: 'muted', text: 'No rollouts match.' }))]));
    };
    phase.addEventListener('change', load);
    target.addEventListener('input', load);
    app.replaceChildren(el('h2', { text: 'Rollouts' }), el('div', { class: 'filters' }, phase, target), table, error);
    load();
    every(3000, load);
  }

  function stepBar(s) {
    return el('div', { class: 'steps', id: 'steps' }, ...s.steps.map((d, i) => {
      const ended = TERMINAL.includes(s.phase);
      const state = s.phase === 'Completed' || i < s.step ? 'done'
        : i === s.step ? (ended ? 'interrupted' : 'current') : '';
      return el('span', { class: 'step ' + state, title: d, text: (i + 1) + '. ' + d });
    }));
  }

  function showRollout(id) {
    const reason = el('input', { id: 'reason', placeholder: 'reason (or approval comment)' });
    const error = el('div', { class: 'error', id: 'action-error' });
    const view = el('div', { id: 'rollout' });
    const img = el('img', { id: 'report', alt: 'exposure and guards over time' });
    let last = '';
    const act = (name, needsReason) => async () => {
      const text = reason.value.trim();
      if (needsReason && !text) { error.textContent = 'Give a reason first.'; reason.focus(); return; }
      const s = view.status;
      const body = name === 'approve' ? { step: s.step, ...(text ? { comment: text } : {}) } : needsReason ? { reason: text } : {};
      const res = await api('POST', '/rollouts/' + encodeURIComponent(id) + '/' + name, body);
      if (res.status === 200 || res.status === 201) {
        error.textContent = ''; reason.value = '';
        await load();
        // retry and undo start a new run of an ended rollout: watch it again
        if (res.status === 201) every(1000, load);
      }
      else error.textContent = name + ': ' + ((res.json && (res.json.error || JSON.stringify(res.json.issues))) || res.status);
    };
    // [command, role, needs a reason, class]; a finished rollout offers the way back (undo) or forward again (retry)
    const LIVE = [
      ['pause', 'operate', true, ''], ['resume', 'operate', false, ''], ['promote', 'operate', false, ''],
      ['approve', 'approve', false, 'primary'], ['abort', 'operate', true, 'danger'],
    ];
    const ENDED = (s) => s.phase === 'Completed' ? [['undo', 'operate', true, 'danger']] : [['retry', 'start', true, '']];
    const actionPanel = (defs) => {
      const buttons = defs.filter(([, role]) => can(role)).map(([name, , needsReason, cls]) =>
        el('button', { id: 'action-' + name, class: cls, onclick: act(name, needsReason), text: name[0].toUpperCase() + name.slice(1) }));
      return buttons.length
        ? el('div', { class: 'panel' }, el('h2', { text: 'Act' }), el('div', { class: 'actions' }, reason, ...buttons), error)
        : undefined;
    };

    async function load() {
      const res = await api('GET', '/rollouts/' + encodeURIComponent(id));
      if (res.status === 401) return login('Your session ended.');
      if (res.status !== 200) { view.replaceChildren(el('p', { class: 'error', text: (res.json && res.json.error) || 'not found' })); return; }
      const s = res.json;
      view.status = s;
      const shown = JSON.stringify([s.startedAt, s.phase, s.step, s.exposure, s.timeline.length, s.guards, s.rollback]);
      if (shown === last) return;
      last = shown;
      const facts = el('dl', { class: 'facts' },
        el('dt', { text: 'phase' }), el('dd', { class: 'phase phase-' + s.phase, id: 'phase', text: s.phase }),
        el('dt', { text: 'step' }), el('dd', { id: 'step', text: TERMINAL.includes(s.phase) && s.phase === 'Completed' ? 'done' : (s.step + 1) + ' of ' + s.totalSteps + ': ' + s.stepDescription }),
        el('dt', { text: 'exposure' }), el('dd', { id: 'exposure', text: s.exposure.percent + ' %' + (s.exposure.shadow ? ' (shadow ' + s.exposure.shadow + ' %)' : '') }),
        el('dt', { text: 'target' }), el('dd', { text: s.target }),
        ...(s.rollback ? [el('dt', { text: 'rollback' }), el('dd', { id: 'rollback', text: s.rollback.reason + (s.rollback.retrying ? ' (retrying: ' + (s.rollback.lastError || '') + ')' : '') })] : []),
        ...(s.pauseReasons.length ? [el('dt', { text: 'paused' }), el('dd', { text: s.pauseReasons.map((p) => p.reason).join('; ') })] : []),
        ...(me.uiUrl ? [el('dt', { text: 'Temporal' }), el('dd', {}, el('a', { href: me.uiUrl + '/namespaces/' + encodeURIComponent(me.namespace) + '/workflows/' + encodeURIComponent(id), target: '_blank', rel: 'noopener', text: 'open in the Temporal Web UI' }))] : []));
      const guards = s.guards.length
        ? el('table', { id: 'guards' }, el('thead', {}, el('tr', {}, ...['guard', 'verdict', 'value', 'threshold', 'checks'].map((h) => el('th', { text: h })))),
            el('tbody', {}, ...s.guards.map((g) => el('tr', {},
              el('td', { text: g.name + (g.dryRun ? ' (dry run)' : '') + (g.during === 'rollout' ? ' (whole rollout)' : '') }),
              el('td', { class: 'phase phase-' + (g.verdict === 'Failed' ? 'RolledBack' : g.verdict === 'Successful' ? 'Completed' : 'Paused'), text: g.verdict }),
              el('td', { text: g.value === null ? 'no data' : formatValue(g.value, g.unit) }),
              el('td', { text: g.threshold }),
              el('td', { text: g.checks === undefined ? '' : String(g.checks) })))))
        : el('p', { class: 'muted', text: 'No guard has reported yet.' });
      const timeline = el('ol', { class: 'timeline', id: 'timeline' }, ...s.timeline.slice().reverse().map((t) =>
        el('li', {}, el('span', { class: 'muted', text: new Date(t.at).toLocaleTimeString() + ' ' }), el('b', { text: t.phase }), el('span', { text: ' · step ' + (t.step + 1) + ' · ' + t.exposure + ' % · ' + t.cause + (t.actor ? ' (' + t.actor + ')' : '') }))));
      const approvals = s.approvals.length
        ? el('ul', { id: 'approvals' }, ...s.approvals.map((a) => el('li', { text: 'step ' + (a.step + 1) + ' approved by ' + a.actor + (a.comment ? ': ' + a.comment : '') })))
        : el('p', { class: 'muted', text: 'No approvals yet.' });
      img.src = '/rollouts/' + encodeURIComponent(id) + '/report.svg?at=' + Date.now();
      view.replaceChildren(
        el('h2', { text: id }), stepBar(s),
        el('div', { class: 'panel' }, facts),
        ...(TERMINAL.includes(s.phase)
          ? [el('p', { class: 'muted', id: 'ended', text: 'This rollout has ended' + (s.undoOf ? ': an undo of run ' + s.undoOf + '.' : '.') }), actionPanel(ENDED(s))].filter(Boolean)
          : [actionPanel(LIVE) || el('p', { class: 'muted', id: 'read-only', text: 'Your principal may look, not act.' })]),
        el('div', { class: 'panel report' }, el('h2', { text: 'Exposure and guards over time' }), img),
        el('div', { class: 'panel' }, el('h2', { text: 'Guards' }), guards),
        el('div', { class: 'panel' }, el('h2', { text: 'Approvals' }), approvals),
        el('div', { class: 'panel' }, el('h2', { text: 'Timeline' }), timeline));
      if (TERMINAL.includes(s.phase)) stop();
    }
    app.replaceChildren(el('p', {}, el('a', { href: '#/', text: '← all rollouts' })), view);
    load();
    every(1000, load);
  }

  function formatValue(x, unit) {
    const sig = (v, d) => String(Number(v.toPrecision(d)));
    if (unit === 'ratio') return sig(x * 100, 3) + ' %';
    if (unit === 'percent') return sig(x, 3) + ' %';
    if (unit === 's') return Math.abs(x) < 1 && x !== 0 ? sig(x * 1000, 3) + ' ms' : sig(x, 3) + ' s';
    if (unit === 'ms') return Math.abs(x) >= 1000 ? sig(x / 1000, 3) + ' s' : sig(x, 3) + ' ms';
    return sig(x, 4);
  }

  window.addEventListener('hashchange', () => { if (me) route(); });
  start();
})();
`;
