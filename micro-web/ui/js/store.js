// store.js — the Store page (#/store): list keys of a table by prefix with paging (50 a page),
// read a record (text value, or a base64 note for binary values; metadata; ttl), write a record
// (key, value, ttl ms) and delete one (after a confirm). A 503 (no store configured) shows the
// server's error detail.

import { h, uid, chips, errorBox } from './dom.js';
import { get, put, del, withQuery, errorFields } from './api.js';

const LIMIT = 50;

function labelled(label, control) {
  const id = uid('st');
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control);
}

export function mount(main, ctx) {
  ctx.title('Store');
  const tableInput = h('input', { type: 'text', value: 'micro', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'store-table' });
  const prefixInput = h('input', { type: 'search', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'store-prefix', 'data-search': true });
  const listBtn = h('button', { type: 'submit', class: 'primary', 'data-testid': 'store-list' }, 'List keys');
  const errorSlot = h('div', { 'data-testid': 'store-error-slot' });
  const keys = h('ul', { class: 'keys', 'data-testid': 'store-keys' });
  const pageInfo = h('p', { class: 'muted small', role: 'status', 'data-testid': 'store-page' });
  const prev = h('button', { type: 'button', class: 'secondary', disabled: true, 'data-testid': 'store-prev', onclick: () => list(Math.max(0, offset - LIMIT)) }, 'Previous');
  const next = h('button', { type: 'button', class: 'secondary', disabled: true, 'data-testid': 'store-next', onclick: () => list(offset + LIMIT) }, 'Next');
  const recordView = h('div', { 'data-testid': 'store-record' }, h('p', { class: 'muted' }, 'Pick a key to read its record.'));

  const editKey = h('input', { type: 'text', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'store-edit-key', required: true });
  const editValue = h('textarea', { class: 'mono', rows: '5', spellcheck: 'false', 'data-testid': 'store-edit-value' });
  const editTtl = h('input', { type: 'number', min: '0', step: '1', inputmode: 'numeric', placeholder: 'no expiry', class: 'short', 'data-testid': 'store-edit-ttl' });
  const saveBtn = h('button', { type: 'submit', class: 'primary', 'data-testid': 'store-save' }, 'Save record');
  const result = h('div', { role: 'status', 'data-testid': 'store-result' });

  main.append(
    h('h1', null, 'Store'),
    h('form', { class: 'row', novalidate: true, 'data-testid': 'store-browse', onsubmit: (e) => { e.preventDefault(); list(0); } },
      labelled('Table', tableInput), labelled('Key prefix', prefixInput), h('div', { class: 'actions' }, listBtn)),
    errorSlot,
    h('div', { class: 'split' },
      h('section', { class: 'card', 'aria-labelledby': 'st-keys' }, h('h2', { id: 'st-keys' }, 'Keys'), keys, pageInfo,
        h('div', { class: 'actions' }, prev, next)),
      h('section', { class: 'card', 'aria-labelledby': 'st-record' }, h('h2', { id: 'st-record' }, 'Record'), recordView)),
    h('section', { class: 'card', 'aria-labelledby': 'st-write' }, h('h2', { id: 'st-write' }, 'Write a record'),
      h('form', { class: 'stack', novalidate: true, 'data-testid': 'store-editor', onsubmit: save },
        labelled('Key', editKey), labelled('Value', editValue), labelled('TTL (ms)', editTtl),
        h('div', { class: 'actions' }, saveBtn)),
      result),
  );

  let offset = 0;
  let table = 'micro';

  function showError(err) {
    errorSlot.replaceChildren(errorBox(errorFields(err), 'store-error'));
  }

  async function list(off) {
    table = tableInput.value.trim() || 'micro';
    errorSlot.replaceChildren();
    try {
      const data = await get(withQuery('api/store', { table, prefix: prefixInput.value, limit: LIMIT, offset: off }), { signal: ctx.signal });
      offset = off;
      const names = Array.isArray(data && data.keys) ? data.keys : [];
      keys.replaceChildren(...names.map((k) => h('li', null,
        h('button', { type: 'button', class: 'link', 'data-testid': 'store-key', 'data-key': k, onclick: () => read(k) }, k))));
      if (!names.length) keys.append(h('li', { class: 'muted' }, off ? 'No more keys.' : 'No keys.'));
      pageInfo.textContent = names.length ? `Keys ${off + 1}–${off + names.length} in ${table}` : '';
      prev.disabled = off === 0;
      next.disabled = !(data && data.more);
    } catch (err) {
      if (ctx.signal.aborted || (err && err.name === 'AbortError')) return;
      keys.replaceChildren();
      pageInfo.textContent = '';
      prev.disabled = true;
      next.disabled = true;
      showError(err);
    }
  }

  async function read(key) {
    recordView.replaceChildren(h('p', { class: 'muted' }, 'Loading…'));
    try {
      const r = await get(withQuery('api/store/record', { table, key }), { signal: ctx.signal });
      renderRecord(r || {});
    } catch (err) {
      if (ctx.signal.aborted || (err && err.name === 'AbortError')) return;
      recordView.replaceChildren(errorBox(errorFields(err), 'store-error'));
    }
  }

  function renderRecord(r) {
    const binary = typeof r.value !== 'string' && typeof r.value_base64 === 'string';
    const ttl = typeof r.ttl_ms === 'number' && r.ttl_ms > 0 ? `${r.ttl_ms} ms` : 'no expiry';
    const delBtn = h('button', { type: 'button', class: 'danger', 'data-testid': 'store-delete', onclick: () => remove(r.key) }, 'Delete');
    recordView.replaceChildren(
      h('dl', { class: 'facts' },
        h('dt', null, 'Key'), h('dd', null, h('code', { 'data-testid': 'store-record-key' }, r.key)),
        h('dt', null, 'Value'), h('dd', null,
          binary ? h('p', { class: 'muted small', 'data-testid': 'store-binary-note' }, 'Binary value, shown as base64:') : null,
          h('pre', { class: 'json', 'data-testid': 'store-value' }, binary ? r.value_base64 : String(r.value ?? ''))),
        h('dt', null, 'Metadata'), h('dd', null, chips(r.metadata)),
        h('dt', null, 'TTL'), h('dd', { 'data-testid': 'store-ttl' }, ttl)),
      h('div', { class: 'actions' }, delBtn));
    // Prefill the editor with text records only: a binary value can't be edited as text.
    if (!binary) {
      editKey.value = r.key || '';
      editValue.value = String(r.value ?? '');
      editTtl.value = typeof r.ttl_ms === 'number' && r.ttl_ms > 0 ? String(r.ttl_ms) : '';
    }
  }

  async function remove(key) {
    if (!window.confirm(`Delete the record "${key}" from table "${table}"?`)) return;
    try {
      await del(withQuery('api/store/record', { table, key }));
      result.replaceChildren(h('span', { class: 'ok-text' }, `Deleted ${key}.`));
      recordView.replaceChildren(h('p', { class: 'muted' }, `Deleted ${key}.`));
      list(offset);
    } catch (err) {
      recordView.append(errorBox(errorFields(err), 'store-error'));
    }
  }

  async function save(e) {
    e.preventDefault();
    const key = editKey.value;
    if (key.trim() === '') {
      editKey.setAttribute('aria-invalid', 'true');
      result.replaceChildren(h('span', { class: 'bad-text' }, 'A record needs a key.'));
      editKey.focus();
      return;
    }
    editKey.removeAttribute('aria-invalid');
    const ttlRaw = editTtl.value.trim();
    const ttl = ttlRaw === '' ? null : Number(ttlRaw);
    if (ttl !== null && (!Number.isInteger(ttl) || ttl < 0)) {
      editTtl.setAttribute('aria-invalid', 'true');
      result.replaceChildren(h('span', { class: 'bad-text' }, 'The TTL is a whole number of milliseconds.'));
      return;
    }
    editTtl.removeAttribute('aria-invalid');
    table = tableInput.value.trim() || 'micro';
    try {
      await put('api/store/record', { table, key, value: editValue.value, ttl_ms: ttl });
      result.replaceChildren(h('span', { class: 'ok-text' }, `Saved ${key} in ${table}.`));
      list(offset);
      read(key);
    } catch (err) {
      result.replaceChildren(errorBox(errorFields(err), 'store-error'));
    }
  }

  list(0);
}
