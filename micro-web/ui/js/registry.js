// registry.js — the Registry page (#/registry): the raw registry records (api/registry) grouped
// by service, each record as collapsible pretty JSON (a <pre> filled with textContent), with a
// filter box and a Refresh button.

import { h, uid, errorBox, prettyJSON } from './dom.js';
import { get, errorFields } from './api.js';

export function mount(main, ctx) {
  ctx.title('Registry');
  const filterId = uid('filter');
  const filter = h('input', {
    id: filterId, type: 'search', autocomplete: 'off', spellcheck: 'false', placeholder: 'name contains…',
    'data-testid': 'filter', 'data-search': true,
  });
  const refresh = h('button', { type: 'button', class: 'secondary', 'data-testid': 'refresh', onclick: () => load() }, 'Refresh');
  const shown = h('p', { class: 'muted small', role: 'status', 'data-testid': 'filter-count' });
  const list = h('div', { class: 'records', 'data-testid': 'registry' }, h('p', { class: 'muted' }, 'Loading…'));
  main.append(
    h('h1', null, 'Registry'),
    h('p', { class: 'muted' }, 'The raw records as the registry holds them (go-micro JSON).'),
    h('div', { class: 'toolbar' },
      h('div', { class: 'field grow' }, h('label', { for: filterId }, 'Filter registry'), filter),
      refresh, shown),
    list,
  );

  let groups = []; // {lname, el}

  function applyFilter() {
    const q = filter.value.trim().toLowerCase();
    let visible = 0;
    for (const g of groups) {
      const hide = q !== '' && !g.lname.includes(q);
      if (g.el.hidden !== hide) g.el.hidden = hide;
      if (!hide) visible += 1;
    }
    shown.textContent = q ? `${visible} of ${groups.length} shown` : `${groups.length} services`;
  }

  async function load() {
    try {
      const data = await get('api/registry', { signal: ctx.signal });
      const records = Array.isArray(data && data.services) ? data.services : [];
      const byName = new Map();
      for (const r of records) {
        const name = String(r && r.name ? r.name : '(unnamed)');
        if (!byName.has(name)) byName.set(name, []);
        byName.get(name).push(r);
      }
      const names = [...byName.keys()].sort();
      const open = new Set([...list.querySelectorAll('details[open]')].map((d) => d.dataset.service));
      groups = names.map((name) => {
        const recs = byName.get(name);
        const el = h('details', { class: 'record card', 'data-testid': 'registry-service', 'data-service': name, open: open.has(name) },
          h('summary', null, h('code', null, name), ' ',
            h('span', { class: 'muted' }, `${recs.length} record${recs.length === 1 ? '' : 's'} · `
              + `${recs.reduce((a, r) => a + (Array.isArray(r.nodes) ? r.nodes.length : 0), 0)} nodes`)),
          recs.map((r) => h('pre', { class: 'json', 'data-testid': 'registry-json' }, prettyJSON(r))));
        return { lname: name.toLowerCase(), el };
      });
      const frag = document.createDocumentFragment();
      for (const g of groups) frag.append(g.el);
      list.replaceChildren(frag);
      if (!groups.length) list.append(h('p', { class: 'muted' }, 'The registry is empty.'));
      applyFilter();
    } catch (err) {
      if (ctx.signal.aborted || (err && err.name === 'AbortError')) return;
      list.replaceChildren(errorBox(errorFields(err), 'error'));
    }
  }

  filter.addEventListener('input', applyFilter);
  load();
}
