// services.js — the Services page (#/): counts, a filter box, one row per service (name,
// versions, nodes, health, endpoints) and the web apps. Live from api/watch (event "services"):
// rows are updated in place, new ones built into a DocumentFragment and the row group replaced in
// one go. The filter toggles `hidden` on rows (no rebuild). ArrowUp/ArrowDown move a highlighted
// row, Enter opens it.

import { h, uid, badge, healthBadge, liveIndicator, errorBox } from './dom.js';
import { get, seg, subscribe, errorFields } from './api.js';

function isEditable(el) {
  if (!el || !el.tagName) return false;
  return el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT'
    || (el.tagName === 'INPUT' && !['button', 'submit', 'checkbox', 'radio', 'reset'].includes(el.type));
}

/**
 * The services list as an ARIA table of grid rows, not a <table>: rows off screen skip layout
 * and paint (`content-visibility: auto`), which a table's rows cannot, so a thousand services
 * render as fast as a screenful.
 */
function grid(columns) {
  const head = h('div', { role: 'row', class: 'grid-row grid-head' },
    columns.map((c) => h('div', { role: 'columnheader', class: c.class }, c.label)));
  const tbody = h('div', { role: 'rowgroup', class: 'grid-body' });
  const el = h('div', { role: 'table', 'aria-label': 'Services', 'data-testid': 'services', class: 'grid services' },
    h('div', { role: 'rowgroup' }, head), tbody);
  const wrap = h('div', { class: 'table-wrap', role: 'region', 'aria-label': 'Services', tabindex: '0' }, el);
  return { wrap, tbody };
}

export function mount(main, ctx) {
  ctx.title('Services');
  const live = liveIndicator('live');
  const counts = h('p', { class: 'counts', 'data-testid': 'counts' }, 'Loading…');
  const filterId = uid('filter');
  const hintId = uid('hint');
  const filter = h('input', {
    id: filterId, type: 'search', 'data-testid': 'filter', 'data-search': true, autocomplete: 'off',
    spellcheck: 'false', placeholder: 'name contains…', 'aria-describedby': hintId,
  });
  const shown = h('p', { class: 'muted small', role: 'status', 'data-testid': 'filter-count' });
  const announce = h('p', { class: 'sr-only', 'aria-live': 'polite' });
  const t = grid([{ label: 'Name' }, { label: 'Versions' }, { label: 'Nodes', class: 'num' }, { label: 'Health' }, { label: 'Endpoints', class: 'num' }]);
  const empty = h('p', { class: 'muted', hidden: true, 'data-testid': 'services-empty' });
  const errorSlot = h('div');
  const webList = h('ul', { class: 'web-apps', 'data-testid': 'web-apps' });
  const webEmpty = h('p', { class: 'muted' }, 'No web apps registered.');

  main.append(
    h('div', { class: 'page-head' }, h('h1', null, 'Services'), live.el),
    counts,
    errorSlot,
    h('div', { class: 'toolbar' },
      h('div', { class: 'field grow' }, h('label', { for: filterId }, 'Filter services'), filter,
        h('small', { class: 'hint', id: hintId }, 'Press / to filter, ↑ ↓ to move through the rows, Enter to open.')),
      shown),
    t.wrap, empty, announce,
    h('section', { 'aria-labelledby': `${hintId}-web` }, h('h2', { id: `${hintId}-web` }, 'Web apps'), webEmpty, webList),
  );

  let rows = new Map(); // name → {tr, lname, key, versions, nodes, health, endpoints}
  let order = [];
  let active = null;
  let webKey = '';
  let total = 0;

  function createRow(s) {
    const r = {
      lname: s.name.toLowerCase(),
      key: '',
      versions: h('div', { role: 'cell', 'data-testid': 'versions' }),
      nodes: h('div', { role: 'cell', class: 'num', 'data-testid': 'node-count' }),
      health: h('div', { role: 'cell' }),
      endpoints: h('div', { role: 'cell', class: 'num', 'data-testid': 'endpoint-count' }),
    };
    const name = h('div', { role: 'rowheader' }, h('a', { href: `#/service/${seg(s.name)}` }, s.name),
      s.web ? [' ', badge('web', 'info')] : null);
    r.tr = h('div', { role: 'row', class: 'grid-row', 'data-testid': 'service-row', 'data-service': s.name },
      name, r.versions, r.nodes, r.health, r.endpoints);
    updateRow(r, s);
    return r;
  }

  function updateRow(r, s) {
    const key = JSON.stringify(s);
    if (r.key === key) return;
    r.key = key;
    r.versions.textContent = (s.versions || []).join(', ');
    r.nodes.textContent = String(s.nodes ?? 0);
    r.health.replaceChildren(healthBadge(s.health || 'unknown'));
    r.endpoints.textContent = String(s.endpoints ?? 0);
  }

  function render(data) {
    if (!data || typeof data !== 'object') return;
    errorSlot.replaceChildren();
    const list = Array.isArray(data.services) ? data.services : [];
    const names = list.map((s) => s.name);
    const sameOrder = names.length === order.length && names.every((n, i) => n === order[i]);
    if (sameOrder) {
      for (const s of list) updateRow(rows.get(s.name), s);
    } else {
      const frag = document.createDocumentFragment();
      const next = new Map();
      for (const s of list) {
        let r = rows.get(s.name);
        if (r) updateRow(r, s); else r = createRow(s);
        next.set(s.name, r);
        frag.appendChild(r.tr);
      }
      rows = next;
      order = names;
      t.tbody.replaceChildren(frag);
      if (active && !rows.has(active)) active = null;
    }
    total = list.length;
    const c = data.counts || {};
    const nodes = c.nodes ?? list.reduce((a, s) => a + (s.nodes || 0), 0);
    counts.textContent = `${c.services ?? list.length} services · ${nodes} nodes`;
    applyFilter();
    renderWeb(Array.isArray(data.web) ? data.web : []);
  }

  function renderWeb(web) {
    const key = JSON.stringify(web);
    if (key === webKey) return;
    webKey = key;
    webEmpty.hidden = web.length > 0;
    // `path` is absolute and not under the dashboard's base: link to it as given.
    webList.replaceChildren(...web.map((w) => h('li', null,
      h('a', { href: w.path, 'data-testid': 'web-app' }, w.name), ' ', h('code', { class: 'muted' }, w.path))));
  }

  function applyFilter() {
    const q = filter.value.trim().toLowerCase();
    let visible = 0;
    for (const r of rows.values()) {
      const hide = q !== '' && !r.lname.includes(q);
      if (r.tr.hidden !== hide) r.tr.hidden = hide;
      if (!hide) visible += 1;
    }
    if (active && rows.get(active).tr.hidden) setActive(null);
    shown.textContent = q ? `${visible} of ${total} shown` : '';
    empty.hidden = visible > 0;
    empty.textContent = total === 0 ? 'No services registered.' : 'No services match the filter.';
  }

  function setActive(name, scroll = false) {
    if (active && rows.has(active)) {
      const prev = rows.get(active).tr;
      prev.classList.remove('active');
      prev.removeAttribute('aria-current');
    }
    active = name;
    if (!name) return;
    const tr = rows.get(name).tr;
    tr.classList.add('active');
    tr.setAttribute('aria-current', 'true');
    announce.textContent = `${name} highlighted, press Enter to open`;
    if (scroll) tr.scrollIntoView({ block: 'nearest' });
  }

  function move(dir) {
    const visible = order.filter((n) => !rows.get(n).tr.hidden);
    if (!visible.length) return;
    const i = active ? visible.indexOf(active) : -1;
    const next = i === -1 ? (dir > 0 ? 0 : visible.length - 1) : Math.max(0, Math.min(visible.length - 1, i + dir));
    setActive(visible[next], true);
  }

  function onKey(e) {
    if (e.defaultPrevented || e.altKey || e.ctrlKey || e.metaKey) return;
    const target = e.target;
    if (target !== filter && isEditable(target)) return;
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      e.preventDefault();
      move(e.key === 'ArrowDown' ? 1 : -1);
    } else if (e.key === 'Enter' && active) {
      if (target && (target.tagName === 'A' || target.tagName === 'BUTTON')) return;
      e.preventDefault();
      location.hash = `#/service/${seg(active)}`;
    }
  }

  filter.addEventListener('input', applyFilter);
  document.addEventListener('keydown', onKey);

  let gotLive = false; // a snapshot from the event stream wins over a slower first GET
  get('api/services', { signal: ctx.signal })
    .then((data) => { if (!gotLive) render(data); })
    .catch((err) => {
      if (ctx.signal.aborted || (err && err.name === 'AbortError')) return;
      counts.textContent = '';
      errorSlot.replaceChildren(errorBox(errorFields(err), 'error'));
    });
  const stop = subscribe('api/watch', 'services', (data) => { gotLive = true; render(data); }, (state) => live.set(state));

  return () => {
    stop();
    document.removeEventListener('keydown', onKey);
  };
}
