// service.js — one service (#/service/NAME): versions, nodes (address, metadata chips, health),
// endpoints (stream kind, idempotent, HTTP bindings, request/response schema trees, Call link)
// and subscribers. Live: each api/watch "services" event re-fetches (debounced) and re-renders
// only when the service's record changed, keeping open <details> open.

import { h, badge, chips, healthBadge, table, liveIndicator, errorBox, debounce } from './dom.js';
import { get, seg, subscribe, errorFields } from './api.js';
import { analyse, treeView } from './schema.js';

const STREAM_LABEL = { server: 'server stream', client: 'client stream', bidirectional: 'bidirectional stream' };

export function mount(main, ctx) {
  const [name = ''] = ctx.params;
  ctx.title(name);
  const live = liveIndicator('live');
  const body = h('div', { class: 'service' }, h('p', { class: 'muted', role: 'status' }, 'Loading…'));
  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: '#/' }, '← Services')),
    h('div', { class: 'page-head' }, h('h1', null, name), live.el),
    body,
  );

  let lastKey = null;
  let loading = false;
  let again = false;

  async function load() {
    if (loading) { again = true; return; }
    loading = true;
    try {
      const data = await get(`api/services/${seg(name)}`, { signal: ctx.signal });
      const key = JSON.stringify(data);
      if (key !== lastKey) {
        lastKey = key;
        const open = openDetails(body);
        body.replaceChildren(...render(name, data));
        restoreDetails(body, open);
      }
    } catch (err) {
      if (ctx.signal.aborted || (err && err.name === 'AbortError')) return;
      lastKey = null;
      const f = errorFields(err);
      body.replaceChildren(f.code === 404
        ? h('div', { 'data-testid': 'not-found' }, h('p', null, `No service called "${name}" is registered right now.`), errorBox(f, 'error'))
        : errorBox(f, 'error'));
    } finally {
      loading = false;
      if (again && !ctx.signal.aborted) { again = false; load(); }
    }
  }

  load();
  const refresh = debounce(load, 200);
  const stop = subscribe('api/watch', 'services', () => refresh(), (state) => live.set(state));
  return () => { stop(); refresh.cancel(); };
}

/** Keys of the <details> that are open, so a live re-render keeps them open. */
function openDetails(root) {
  return new Set([...root.querySelectorAll('details[data-key][open]')].map((d) => d.dataset.key));
}

function restoreDetails(root, keys) {
  for (const d of root.querySelectorAll('details[data-key]')) {
    if (keys.has(d.dataset.key)) d.open = true;
  }
}

function render(name, data) {
  const versions = Array.isArray(data.versions) ? data.versions : [];
  const enums = data.enums || {};
  const out = [];

  out.push(h('section', { 'aria-labelledby': 'sv-versions' },
    h('h2', { id: 'sv-versions' }, 'Versions'),
    versions.length
      ? h('ul', { class: 'versions', 'data-testid': 'versions' }, versions.map((v) => h('li', { 'data-version': v.version },
        badge(v.version || '(none)', 'info'), ' ', chips(v.metadata, 'no metadata'))))
      : h('p', { class: 'muted' }, 'No versions registered.')));

  // Nodes of every version in one table.
  const nodes = versions.flatMap((v) => (v.nodes || []).map((n) => ({ ...n, version: v.version })));
  const t = table({
    columns: [{ label: 'ID' }, { label: 'Version' }, { label: 'Address' }, { label: 'Metadata' }, { label: 'Health' }],
    label: 'Nodes', testid: 'nodes',
  });
  for (const n of nodes) {
    t.tbody.append(h('tr', { 'data-testid': 'node-row', 'data-node': n.id },
      h('th', { scope: 'row' }, h('code', null, n.id)),
      h('td', null, n.version || ''),
      h('td', null, h('code', null, n.address)),
      h('td', null, chips(n.metadata)),
      h('td', null, healthBadge(n.health || 'UNKNOWN'))));
  }
  out.push(h('section', { 'aria-labelledby': 'sv-nodes' },
    h('h2', { id: 'sv-nodes' }, `Nodes (${nodes.length})`),
    nodes.length ? t.wrap : h('p', { class: 'muted', 'data-testid': 'nodes-empty' }, 'No nodes.')));

  // Endpoints: the union over versions, first occurrence wins.
  const endpoints = new Map();
  for (const v of versions) {
    for (const e of v.endpoints || []) {
      if (!endpoints.has(e.name)) endpoints.set(e.name, { ep: e, versions: [] });
      endpoints.get(e.name).versions.push(v.version);
    }
  }
  out.push(h('section', { 'aria-labelledby': 'sv-endpoints' },
    h('h2', { id: 'sv-endpoints' }, `Endpoints (${endpoints.size})`),
    endpoints.size
      ? h('div', { class: 'endpoints' }, [...endpoints.values()].map(({ ep, versions: vs }) =>
        endpointCard(name, ep, enums, vs.length < versions.length ? vs : null)))
      : h('p', { class: 'muted' }, 'No endpoints.')));

  const subs = versions.flatMap((v) => v.subscribers || []);
  out.push(h('section', { 'aria-labelledby': 'sv-subs' },
    h('h2', { id: 'sv-subs' }, `Subscribers (${subs.length})`),
    subs.length
      ? h('ul', { class: 'subscribers' }, subs.map((s) => h('li', { 'data-testid': 'subscriber', 'data-topic': s.topic },
        'topic ', h('code', null, s.topic),
        s.queue ? [' · queue ', h('code', null, s.queue)] : null,
        s.request ? [' · message ', h('code', null, s.request.type || s.request.name || '')] : null,
        s.request ? schemaDetails(`sub:${s.topic}:${s.queue || ''}`, 'Message', s.request, enums) : null)))
      : h('p', { class: 'muted' }, 'No subscribers.')));
  return out;
}

function schemaDetails(key, title, value, enums) {
  const a = analyse(value, enums);
  const type = value ? (value.type || value.name || '') : '';
  return h('details', { class: 'schema', 'data-key': key, 'data-testid': `schema-${title.toLowerCase()}` },
    h('summary', null, title, type ? [' ', h('code', null, type)] : ' (not documented)'),
    treeView(a.root));
}

function endpointCard(service, ep, enums, onlyVersions) {
  const kind = ep.stream || null;
  const http = Array.isArray(ep.http) ? ep.http : [];
  return h('article', { class: 'endpoint card', 'data-testid': 'endpoint', 'data-endpoint': ep.name },
    h('div', { class: 'endpoint-head' },
      h('h3', null, h('code', null, ep.name)),
      h('span', { class: 'badges' },
        badge(kind ? STREAM_LABEL[kind] || kind : 'unary', kind ? 'info' : 'neutral', { 'data-testid': 'stream-kind' }),
        ep.idempotent ? [' ', badge('idempotent', 'ok', { 'data-testid': 'idempotent' })] : null),
      h('a', { class: 'button', href: `#/call/${seg(service)}/${seg(ep.name)}`, 'data-testid': 'call-link' },
        'Call', h('span', { class: 'sr-only' }, ` ${ep.name}`))),
    onlyVersions ? h('p', { class: 'muted small' }, `Only in version ${onlyVersions.join(', ')}.`) : null,
    http.length ? h('ul', { class: 'http', 'data-testid': 'http' }, http.map((b) => h('li', null,
      h('code', null, `${b.method || ''} ${b.path || ''}`.trim()),
      b.body ? h('span', { class: 'muted' }, ` body: ${b.body}`) : null))) : null,
    ep.metadata && Object.keys(ep.metadata).length ? chips(ep.metadata) : null,
    h('div', { class: 'schemas' },
      schemaDetails(`${ep.name}:request`, 'Request', ep.request, enums),
      schemaDetails(`${ep.name}:response`, 'Response', ep.response, enums)));
}
