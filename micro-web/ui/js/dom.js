// dom.js — small DOM helpers for the dashboard.
// h() builds elements and only ever sets textContent, attributes, properties and listeners:
// data from the server never goes through innerHTML. Also: badges, tables, metadata chips,
// a key/value editor, an error box, a live indicator and copy-to-clipboard with a fallback.

// Properties set as DOM properties rather than attributes (so `value` on a <select> works).
const PROPS = new Set([
  'value', 'checked', 'selected', 'disabled', 'hidden', 'open', 'indeterminate',
  'readOnly', 'multiple', 'required', 'textContent',
]);

/** Append children: strings/numbers become text nodes; arrays are flattened; null/false skipped. */
export function append(parent, ...children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(parent, ...child);
    else if (child instanceof Node) parent.appendChild(child);
    else parent.appendChild(document.createTextNode(String(child)));
  }
  return parent;
}

/**
 * h('button', {type: 'button', onclick: fn, 'data-testid': 'send'}, 'Send')
 * attrs: class (string or array), dataset (object), on<event> (function), aria-* (stringified),
 * known properties (value, checked, hidden, ...), anything else as an attribute
 * (true → empty attribute, false/null/undefined → left out).
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  append(el, children);
  if (!attrs) return el;
  for (const [key, v] of Object.entries(attrs)) {
    if (v === undefined || v === null) continue;
    if (key === 'class') {
      el.className = Array.isArray(v) ? v.filter(Boolean).join(' ') : String(v);
    } else if (key === 'dataset') {
      for (const [dk, dv] of Object.entries(v)) el.dataset[dk] = String(dv);
    } else if (key.startsWith('on') && typeof v === 'function') {
      el.addEventListener(key.slice(2).toLowerCase(), v);
    } else if (PROPS.has(key)) {
      el[key] = v;
    } else if (key.startsWith('aria-')) {
      el.setAttribute(key, String(v));
    } else if (v === true) {
      el.setAttribute(key, '');
    } else if (v !== false) {
      el.setAttribute(key, String(v));
    }
  }
  return el;
}

let uidCounter = 0;
/** A page-unique id, for label/for and aria-describedby pairs. */
export function uid(prefix = 'id') {
  uidCounter += 1;
  return `${prefix}-${uidCounter}`;
}

/** Pretty JSON text (2-space indent); undefined becomes an empty string. */
export function prettyJSON(value) {
  if (value === undefined) return '';
  return JSON.stringify(value, null, 2);
}

/** A <pre> showing a value as pretty JSON (strings that are not JSON objects are shown as is). */
export function jsonPre(value, attrs = {}) {
  const text = typeof value === 'string' ? value : prettyJSON(value);
  return h('pre', { class: 'json', ...attrs }, text);
}

/** A small badge: tone is one of ok, warn, bad, info, neutral. */
export function badge(text, tone = 'neutral', attrs = {}) {
  return h('span', { class: `badge badge-${tone}`, ...attrs }, text);
}

/** Map a health string (service summary or node health) to a badge tone. */
export function healthTone(health) {
  const s = String(health || '').toLowerCase();
  if (s === 'serving') return 'ok';
  if (s === 'degraded') return 'warn';
  if (s === 'down' || s === 'not_serving' || s.startsWith('error')) return 'bad';
  return 'neutral';
}

/** A health badge: the text says the state, the colour only repeats it. */
export function healthBadge(health, attrs = {}) {
  const text = health || 'unknown';
  return badge(text, healthTone(text), { 'data-testid': 'health', title: text, ...attrs });
}

/** Metadata as key=value chips; "none" when empty. */
export function chips(obj, emptyText = 'none') {
  const entries = Object.entries(obj || {});
  if (!entries.length) return h('span', { class: 'muted' }, emptyText);
  return h('ul', { class: 'chips' },
    entries.map(([k, v]) => h('li', { class: 'chip' }, `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)));
}

/**
 * A table inside its own horizontally scrolling container.
 * columns: [{label, class}]; returns {wrap, table, tbody}.
 */
export function table({ columns, label, testid, className }) {
  const thead = h('thead', null,
    h('tr', null, columns.map((c) => h('th', { scope: 'col', class: c.class }, c.label))));
  const tbody = h('tbody');
  const tableEl = h('table', { 'data-testid': testid, class: className },
    label ? h('caption', { class: 'sr-only' }, label) : null, thead, tbody);
  // A scrolling region must be reachable from the keyboard (tabindex 0 is not positive).
  const wrap = h('div', { class: 'table-wrap', role: 'region', 'aria-label': label || 'table', tabindex: '0' }, tableEl);
  return { wrap, table: tableEl, tbody };
}

/** A table of plain key/value pairs (headers, trailers). */
export function kvTable(obj, label, testid) {
  const entries = Object.entries(obj || {});
  if (!entries.length) return h('p', { class: 'muted', 'data-testid': testid }, `No ${label.toLowerCase()}.`);
  const t = table({ columns: [{ label: 'Key' }, { label: 'Value' }], label, testid, className: 'kv' });
  for (const [k, v] of entries) {
    t.tbody.append(h('tr', null, h('td', null, h('code', null, k)),
      h('td', null, typeof v === 'string' ? v : JSON.stringify(v))));
  }
  return t.wrap;
}

/** An error box with go-micro's fields: id, code, detail, status. */
export function errorBox(err, testid = 'error') {
  const e = err || {};
  const title = [e.status || 'Error', e.code ? `(${e.code})` : ''].filter(Boolean).join(' ');
  const rows = [['detail', e.detail], ['status', e.status], ['code', e.code], ['id', e.id]]
    .filter(([, v]) => v !== undefined && v !== null && v !== '');
  return h('div', { class: 'error-box', role: 'alert', 'data-testid': testid },
    h('p', { class: 'error-title' }, title),
    h('dl', { class: 'fields' }, rows.map(([k, v]) => [h('dt', null, k), h('dd', { 'data-field': k }, String(v))])));
}

/** A "live" indicator for server-sent event streams. */
export function liveIndicator(testid = 'live') {
  const el = h('span', { class: 'live', role: 'status', 'data-testid': testid, 'data-state': 'connecting' }, 'connecting');
  return {
    el,
    set(state) {
      if (el.dataset.state === state) return;
      el.dataset.state = state;
      el.textContent = state;
    },
  };
}

/**
 * A key/value rows editor (metadata). testid prefixes the hooks:
 * TESTID (fieldset), TESTID-key, TESTID-value, TESTID-remove, TESTID-add.
 */
export function kvEditor({ legend, testid, addText = 'Add entry', initial = {} }) {
  const list = h('ol', { class: 'kv-rows' });
  const addBtn = h('button', { type: 'button', class: 'secondary', 'data-testid': `${testid}-add` }, addText);
  const fieldset = h('fieldset', { class: 'kv-editor', 'data-testid': testid }, h('legend', null, legend), list, addBtn);
  let n = 0;

  function addRow(k = '', v = '', focus = false) {
    n += 1;
    const kid = uid('kv');
    const vid = uid('kv');
    const key = h('input', { id: kid, type: 'text', value: k, autocomplete: 'off', spellcheck: 'false', 'data-testid': `${testid}-key` });
    const val = h('input', { id: vid, type: 'text', value: v, autocomplete: 'off', spellcheck: 'false', 'data-testid': `${testid}-value` });
    const row = h('li', { class: 'kv-row' },
      h('div', { class: 'field' }, h('label', { for: kid }, 'Key', h('span', { class: 'sr-only' }, ` ${n}`)), key),
      h('div', { class: 'field' }, h('label', { for: vid }, 'Value', h('span', { class: 'sr-only' }, ` ${n}`)), val),
      h('button', {
        type: 'button', class: 'secondary small', 'data-testid': `${testid}-remove`,
        onclick: () => { row.remove(); addBtn.focus(); },
      }, 'Remove', h('span', { class: 'sr-only' }, ` entry ${n}`)));
    list.append(row);
    if (focus) key.focus();
  }
  addBtn.addEventListener('click', () => addRow('', '', true));

  function set(obj) {
    list.replaceChildren();
    for (const [k, v] of Object.entries(obj || {})) addRow(k, String(v));
  }
  function get() {
    const out = {};
    for (const row of list.children) {
      const [k, v] = row.querySelectorAll('input');
      if (k.value.trim() !== '') out[k.value.trim()] = v.value;
    }
    return out;
  }
  set(initial);
  return { el: fieldset, get, set };
}

/** Copy text to the clipboard: async Clipboard API first, then a hidden textarea + execCommand. */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    try {
      // Some browsers never settle when the page lacks permission: give up after a second.
      await Promise.race([
        navigator.clipboard.writeText(text),
        new Promise((_, reject) => setTimeout(() => reject(new Error('timeout')), 1000)),
      ]);
      return true;
    } catch { /* fall through to the fallback */ }
  }
  const active = document.activeElement;
  const ta = h('textarea', { class: 'offscreen', readonly: true, 'aria-hidden': 'true', tabindex: '-1' });
  ta.value = text;
  document.body.append(ta);
  ta.select();
  let ok = false;
  try { ok = document.execCommand('copy'); } catch { ok = false; }
  ta.remove();
  if (active && typeof active.focus === 'function') active.focus();
  return ok;
}

/** A local time string for an RFC 3339 / ISO date (falls back to the text given). */
export function fmtTime(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso || '');
  return d.toLocaleTimeString(undefined, { hour12: false });
}

/** "N thing(s)" for labels that are not part of the contract's fixed texts. */
export function plural(n, word) {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** Trailing-edge debounce. */
export function debounce(fn, ms) {
  let t = null;
  const d = (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
  d.cancel = () => clearTimeout(t);
  return d;
}
