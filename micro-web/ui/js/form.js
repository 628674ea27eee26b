// form.js — generates an HTML form from an analysed request schema (schema.js) and reads it
// back as a JSON value. Every control has a <label>, name = its JSON path and data-field = the
// same path ("name", "user.address.city", "tags[0]", "labels[0].key"). Nested messages are
// fieldsets, repeated fields have Add/Remove, maps have key/value rows, enums are selects when
// their values are known, 64-bit integers and bytes are text (proto3 JSON), well-known types are
// text inputs with a hint (Struct/Value/ListValue/Any as a small JSON textarea).
// Reading omits empty optional scalars; invalid entries are reported as {path, message}.

import { h, uid } from './dom.js';
import { SCALARS, scalarZero, typeLabel } from './schema.js';

/**
 * buildForm(root message node) → {el, read() → {value, errors}, write(value)}.
 * write() expects a value that schema.misfit() accepted.
 */
export function buildForm(root) {
  const w = messageWidget(root, '', root.name, true);
  return {
    el: w.el,
    read() {
      const errors = [];
      const value = w.get(errors);
      return { value: value === undefined ? {} : value, errors };
    },
    write(value) { w.set(value || {}); },
    focusFirst() {
      const first = w.el.querySelector('input, select, textarea');
      if (first) first.focus();
    },
  };
}

function widget(n, path, label) {
  switch (n.kind) {
    case 'message': return messageWidget(n, path, label, false);
    case 'repeated': return repeatedWidget(n, path, label);
    case 'map': return mapWidget(n, path, label);
    case 'enum':
      return n.values.length ? selectWidget(path, label, ['', ...n.values], `enum ${n.type}`)
        : textWidget(path, label, `enum ${n.type}: value name`);
    case 'wkt': return wktWidget(n, path, label);
    case 'scalar': return scalarWidget(n.scalar, path, label, n.type);
    default: return textWidget(path, label, `${n.type} · type the value`);
  }
}

/** A labelled control with an optional hint (linked with aria-describedby). */
function labelled(control, label, hint, extraClass = '') {
  const id = uid('f');
  control.id = id;
  let hintEl = null;
  if (hint) {
    hintEl = h('small', { class: 'hint', id: `${id}-hint` }, hint);
    control.setAttribute('aria-describedby', hintEl.id);
  }
  const labelEl = h('label', { for: id }, label);
  const el = control.type === 'checkbox'
    ? h('div', { class: `field check ${extraClass}` }, control, labelEl, hintEl)
    : h('div', { class: `field ${extraClass}` }, labelEl, control, hintEl);
  return el;
}

function input(path, attrs = {}) {
  return h('input', {
    type: 'text', name: path, 'data-field': path, autocomplete: 'off', spellcheck: 'false', ...attrs,
  });
}

/** Marks a control invalid (or valid again) and records the error. */
function flag(control, errors, path, message) {
  if (message) {
    control.setAttribute('aria-invalid', 'true');
    errors.push({ path, message });
  } else {
    control.removeAttribute('aria-invalid');
  }
}

function textWidget(path, label, hint) {
  const el = input(path);
  return {
    el: labelled(el, label, hint),
    get() { return el.value === '' ? undefined : el.value; },
    set(v) { el.value = v === undefined || v === null ? '' : String(v); },
    empty: '',
  };
}

function selectWidget(path, label, options, hint) {
  const el = h('select', { name: path, 'data-field': path },
    options.map((o) => h('option', { value: o }, o === '' ? '(unset)' : o)));
  return {
    el: labelled(el, label, hint),
    get() { return el.value === '' ? undefined : (el.value === 'true' ? true : el.value === 'false' ? false : el.value); },
    set(v) { el.value = v === undefined || v === null ? '' : String(v); },
    empty: undefined,
  };
}

const NUMERIC_HINT = {
  float: 'number', int: 'whole number', uint: 'whole number ≥ 0',
  int64: '64-bit integer (sent as a JSON string)', uint64: '64-bit integer ≥ 0 (sent as a JSON string)',
  bytes: 'bytes, base64', string: 'text',
};

function scalarWidget(scalar, path, label, typeName) {
  const k = SCALARS[scalar];
  if (k === 'bool') {
    const el = input(path, { type: 'checkbox' });
    return {
      el: labelled(el, label, null),
      get() { return el.checked ? true : undefined; },
      set(v) { el.checked = v === true; },
      empty: false,
    };
  }
  const attrs = {};
  if (k === 'float') attrs.inputmode = 'decimal';
  if (k === 'int' || k === 'uint' || k === 'int64' || k === 'uint64') attrs.inputmode = 'numeric';
  const el = input(path, attrs);
  const hint = k === 'string' ? typeName : `${typeName} · ${NUMERIC_HINT[k]}`;
  return {
    el: labelled(el, label, hint),
    get(errors) {
      const raw = k === 'string' ? el.value : el.value.trim();
      flag(el, errors, path, null);
      if (raw === '') return undefined;
      if (k === 'string') return raw;
      if (k === 'bytes') {
        if (!/^[A-Za-z0-9+/_-]*={0,2}$/.test(raw)) flag(el, errors, path, `${path}: not base64`);
        return raw;
      }
      if (k === 'float') {
        const n = Number(raw);
        if (Number.isFinite(n)) return n;
        if (/^-?Infinity$|^NaN$/.test(raw)) return raw;
        flag(el, errors, path, `${path}: not a number`);
        return raw;
      }
      const ok = (k === 'uint' || k === 'uint64') ? /^\d+$/.test(raw) : /^-?\d+$/.test(raw);
      if (!ok) {
        flag(el, errors, path, `${path}: not a whole number${k.startsWith('u') ? ' ≥ 0' : ''}`);
        return raw;
      }
      return k === 'int64' || k === 'uint64' ? raw : Number(raw);
    },
    set(v) { el.value = v === undefined || v === null ? '' : String(v); },
    empty: scalarZero(scalar),
  };
}

const WKT_HINTS = {
  Timestamp: 'Timestamp, RFC 3339, e.g. 2024-01-02T15:04:05Z',
  Duration: 'Duration in seconds with an "s", e.g. "1.5s"',
  FieldMask: 'FieldMask: comma-separated field paths',
  Struct: 'Struct: a JSON object',
  Value: 'Value: any JSON',
  ListValue: 'ListValue: a JSON list',
  Any: 'Any: a JSON object with "@type"',
};

function wktWidget(n, path, label) {
  if (n.scalar === 'bool') return selectWidget(path, label, ['', 'true', 'false'], `${n.type} (optional bool)`);
  if (n.scalar) return scalarWidget(n.scalar, path, label, n.type);
  if (n.wkt === 'Empty' || n.wkt === 'NullValue') {
    return { el: h('p', { class: 'field muted' }, `${label}: ${n.type} (nothing to fill in)`), get() { return undefined; }, set() {}, empty: undefined };
  }
  if (n.wkt === 'Timestamp' || n.wkt === 'Duration' || n.wkt === 'FieldMask') {
    const el = input(path);
    return {
      el: labelled(el, label, WKT_HINTS[n.wkt]),
      get(errors) {
        const raw = el.value.trim();
        flag(el, errors, path, null);
        if (raw === '') return undefined;
        if (n.wkt === 'Timestamp' && !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i.test(raw)) {
          flag(el, errors, path, `${path}: not an RFC 3339 time`);
        }
        if (n.wkt === 'Duration' && !/^-?\d+(\.\d+)?s$/.test(raw)) flag(el, errors, path, `${path}: a duration looks like "1.5s"`);
        return raw;
      },
      set(v) { el.value = v === undefined || v === null ? '' : String(v); },
      empty: undefined,
    };
  }
  // Struct, Value, ListValue, Any: a small JSON textarea.
  const el = h('textarea', { name: path, 'data-field': path, rows: '3', spellcheck: 'false', class: 'mono' });
  return {
    el: labelled(el, label, WKT_HINTS[n.wkt] || `${n.type}: JSON`),
    get(errors) {
      const raw = el.value.trim();
      flag(el, errors, path, null);
      if (raw === '') return undefined;
      try {
        const v = JSON.parse(raw);
        const isObj = v !== null && typeof v === 'object' && !Array.isArray(v);
        if ((n.wkt === 'Struct' || n.wkt === 'Any') && !isObj) flag(el, errors, path, `${path}: must be a JSON object`);
        if (n.wkt === 'ListValue' && !Array.isArray(v)) flag(el, errors, path, `${path}: must be a JSON list`);
        return v;
      } catch (e) {
        flag(el, errors, path, `${path}: invalid JSON (${e.message})`);
        return raw;
      }
    },
    set(v) { el.value = v === undefined ? '' : JSON.stringify(v); },
    empty: undefined,
  };
}

function messageWidget(n, path, label, top) {
  const children = n.fields.map((f) => {
    const p = path ? `${path}.${f.name}` : f.name;
    return { f, w: widget(f, p, f.name) };
  });
  const body = children.length
    ? children.map((c) => c.w.el)
    : h('p', { class: 'muted' }, top ? 'This request has no fields.' : 'No fields.');
  const el = top
    ? h('div', { class: 'form-fields' }, body)
    : h('fieldset', { class: 'message', 'data-field': path },
      h('legend', null, label, ' ', h('span', { class: 'ftype' }, typeLabel(n))), body);
  return {
    el,
    get(errors) {
      const out = {};
      for (const { f, w } of children) {
        const v = w.get(errors);
        if (v !== undefined) out[f.name] = v;
      }
      return top || Object.keys(out).length ? out : undefined;
    },
    set(v) {
      const obj = v && typeof v === 'object' ? v : {};
      for (const { f, w } of children) w.set(obj[f.name]);
    },
    empty: {},
  };
}

function repeatedWidget(n, path, label) {
  const list = h('ol', { class: 'items' });
  const addBtn = h('button', { type: 'button', class: 'secondary small', 'data-add': path },
    'Add', h('span', { class: 'sr-only' }, ` ${label} item`));
  const el = h('fieldset', { class: 'repeated', 'data-field': path },
    h('legend', null, label, ' ', h('span', { class: 'ftype' }, typeLabel(n))), list, addBtn);
  let items = [];

  function render(values) {
    list.replaceChildren();
    items = values.map((v, i) => {
      const itemPath = `${path}[${i}]`;
      const w = widget(n.elem, itemPath, `${label}[${i}]`);
      w.set(v);
      const removeBtn = h('button', {
        type: 'button', class: 'secondary small', 'data-remove': itemPath,
        onclick: () => {
          const current = items.map((it) => it.get([]));
          current.splice(i, 1);
          render(current);
          addBtn.focus();
        },
      }, 'Remove', h('span', { class: 'sr-only' }, ` ${itemPath}`));
      list.append(h('li', { class: 'item' }, w.el, removeBtn));
      return w;
    });
  }
  addBtn.addEventListener('click', () => {
    render([...items.map((it) => it.get([])), undefined]);
    const last = list.lastElementChild;
    const first = last && last.querySelector('input, select, textarea');
    if (first) first.focus();
  });
  return {
    el,
    get(errors) {
      const out = [];
      for (const w of items) {
        const v = w.get(errors);
        if (v !== undefined) out.push(v);
        else if (w.empty !== undefined) out.push(w.empty);
      }
      return out.length ? out : undefined;
    },
    set(v) { render(Array.isArray(v) ? v : []); },
    empty: undefined,
  };
}

function mapWidget(n, path, label) {
  const list = h('ol', { class: 'items' });
  const addBtn = h('button', { type: 'button', class: 'secondary small', 'data-add': path },
    'Add entry', h('span', { class: 'sr-only' }, ` to ${label}`));
  const el = h('fieldset', { class: 'map', 'data-field': path },
    h('legend', null, label, ' ', h('span', { class: 'ftype' }, typeLabel(n))), list, addBtn);
  let rows = [];

  function render(entries) {
    list.replaceChildren();
    rows = entries.map(([k, v], i) => {
      const rowPath = `${path}[${i}]`;
      const keyInput = input(`${rowPath}.key`, { value: k });
      const keyField = labelled(keyInput, `key`, `${label} key (${n.key})`);
      const w = widget(n.elem, `${rowPath}.value`, 'value');
      w.set(v);
      const removeBtn = h('button', {
        type: 'button', class: 'secondary small', 'data-remove': rowPath,
        onclick: () => {
          const current = readRows([]);
          current.splice(i, 1);
          render(current);
          addBtn.focus();
        },
      }, 'Remove', h('span', { class: 'sr-only' }, ` ${label} entry ${i + 1}`));
      list.append(h('li', { class: 'item map-entry' }, keyField, w.el, removeBtn));
      return { keyInput, w };
    });
  }
  function readRows(errors) {
    return rows.map(({ keyInput, w }) => [keyInput.value, w.get(errors)]);
  }
  addBtn.addEventListener('click', () => {
    render([...readRows([]), ['', undefined]]);
    const last = list.lastElementChild;
    if (last) last.querySelector('input').focus();
  });
  return {
    el,
    get(errors) {
      const out = {};
      rows.forEach(({ keyInput, w }) => {
        const k = keyInput.value;
        const v = w.get(errors);
        flag(keyInput, errors, keyInput.name, null);
        if (k === '' && v === undefined) return;
        if (k === '') flag(keyInput, errors, keyInput.name, `${keyInput.name}: a map entry needs a key`);
        else if (Object.prototype.hasOwnProperty.call(out, k)) flag(keyInput, errors, keyInput.name, `${keyInput.name}: duplicate key "${k}"`);
        else out[k] = v === undefined ? (w.empty === undefined ? null : w.empty) : v;
      });
      return Object.keys(out).length ? out : undefined;
    },
    set(v) { render(v && typeof v === 'object' ? Object.entries(v) : []); },
    empty: undefined,
  };
}
