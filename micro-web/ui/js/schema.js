// schema.js — understands the registry's VALUE shape ({name, type, values}) for an endpoint's
// request/response: analyse() turns it into a typed tree (scalars, enums, well-known types,
// nested messages, repeated, map<K, V>) and detects recursion cut-offs (→ renderable: false);
// defaultValue() gives a starting JSON value; misfit() says why a JSON value does not fit the
// form; treeView() renders a readable collapsible tree; fieldLines() a plain-text outline.

import { h, badge } from './dom.js';

/** Scalar proto types → the kind of JSON value they take. */
export const SCALARS = {
  double: 'float', float: 'float',
  int32: 'int', sint32: 'int', sfixed32: 'int',
  uint32: 'uint', fixed32: 'uint',
  int64: 'int64', sint64: 'int64', sfixed64: 'int64',
  uint64: 'uint64', fixed64: 'uint64',
  bool: 'bool', string: 'string', bytes: 'bytes',
};

/** google.protobuf wrapper types → the scalar they wrap. */
export const WRAPPERS = {
  DoubleValue: 'double', FloatValue: 'float', Int64Value: 'int64', UInt64Value: 'uint64',
  Int32Value: 'int32', UInt32Value: 'uint32', BoolValue: 'bool', StringValue: 'string', BytesValue: 'bytes',
};

const WELL_KNOWN = new Set(['Timestamp', 'Duration', 'Struct', 'Value', 'ListValue', 'Any', 'Empty', 'FieldMask', 'NullValue']);

const strip = (t) => String(t || '').trim().replace(/^\./, '');

/** The last dot-segment of a type name: "pkg.sub.Node" → "Node". */
export function lastSegment(type) {
  const s = strip(type);
  return s.slice(s.lastIndexOf('.') + 1);
}

/** "Timestamp" for "google.protobuf.Timestamp", null for anything else. */
export function wellKnown(type) {
  const s = strip(type);
  if (!s.startsWith('google.protobuf.')) return null;
  const n = s.slice('google.protobuf.'.length);
  return WELL_KNOWN.has(n) || n in WRAPPERS ? n : null;
}

/**
 * analyse(VALUE, enums) → {root, renderable, recursive: [paths]}
 * Node kinds: message {fields}, scalar {scalar}, enum {values}, wkt {wkt, scalar?},
 * repeated {elem}, map {key, elem}, recursive (cut off), unknown (an enum whose values the
 * server does not know, or an empty message: free text).
 */
export function analyse(value, enums = {}) {
  const recursive = [];
  if (!value || typeof value !== 'object') return { root: null, renderable: true, recursive };
  const type = value.type || value.name || '';
  const root = message(value.name || type, type, value.values || [], [lastSegment(type)], '', enums || {}, recursive);
  return { root, renderable: recursive.length === 0, recursive };
}

function message(name, type, values, ancestors, path, enums, rec) {
  const fields = (values || []).map((f) => {
    const fname = String(f.name || '');
    return typeNode(fname, String(f.type || ''), f.values, ancestors, path ? `${path}.${fname}` : fname, enums, rec);
  });
  return { kind: 'message', name, type, path, fields };
}

function typeNode(name, rawType, values, ancestors, path, enums, rec) {
  const type = rawType.trim();
  if (/^repeated\s/.test(type)) {
    const elem = typeNode(name, type.replace(/^repeated\s+/, ''), values, ancestors, path, enums, rec);
    return { kind: 'repeated', name, type, path, elem };
  }
  const m = /^map\s*<\s*([^,\s]+)\s*,\s*(.+?)\s*>$/.exec(type);
  if (m) {
    const elem = typeNode(name, m[2], values, ancestors, path, enums, rec);
    return { kind: 'map', name, type, path, key: m[1], elem };
  }
  const t = strip(type);
  if (SCALARS[t]) return { kind: 'scalar', name, type, path, scalar: t };
  const wkt = wellKnown(t);
  if (wkt) return { kind: 'wkt', name, type, path, wkt, scalar: WRAPPERS[wkt] };
  const enumValues = enums[type] || enums[t] || enums[`.${t}`];
  if (Array.isArray(enumValues)) return { kind: 'enum', name, type, path, values: enumValues.map(String) };
  if (Array.isArray(values) && values.length) {
    return message(name, type, values, [...ancestors, lastSegment(t)], path, enums, rec);
  }
  if (ancestors.includes(lastSegment(t))) {
    rec.push(path);
    return { kind: 'recursive', name, type, path };
  }
  return { kind: 'unknown', name, type, path };
}

/** The zero value of a scalar as proto3 JSON (64-bit integers as strings). */
export function scalarZero(scalar) {
  const k = SCALARS[scalar];
  if (k === 'string' || k === 'bytes') return '';
  if (k === 'bool') return false;
  if (k === 'int64' || k === 'uint64') return '0';
  return 0;
}

/** A starting JSON value for a node: every field with its zero value. */
export function defaultValue(n) {
  if (!n) return {};
  switch (n.kind) {
    case 'message': {
      const o = {};
      for (const f of n.fields) {
        const v = defaultValue(f);
        if (v !== undefined) o[f.name] = v;
      }
      return o;
    }
    case 'repeated': return [];
    case 'map': return {};
    case 'scalar': return scalarZero(n.scalar);
    case 'enum': return n.values.length ? n.values[0] : undefined;
    case 'wkt': return wktZero(n);
    default: return undefined;
  }
}

function wktZero(n) {
  if (n.scalar) return scalarZero(n.scalar);
  switch (n.wkt) {
    case 'Timestamp': return '1970-01-01T00:00:00Z';
    case 'Duration': return '0s';
    case 'Struct': case 'Empty': return {};
    case 'ListValue': return [];
    default: return undefined; // Value, Any, FieldMask, NullValue: left out
  }
}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
const INT = /^-?\d+$/;

/** null when the JSON value fits the form built for node n, else a short reason. */
export function misfit(n, v, path = '') {
  if (v === undefined || v === null) return null;
  const where = path || 'the request';
  switch (n.kind) {
    case 'message': {
      if (!isObject(v)) return `${where} must be an object`;
      for (const [k, fv] of Object.entries(v)) {
        const f = n.fields.find((x) => x.name === k);
        const p = path ? `${path}.${k}` : k;
        if (!f) return `unknown field "${p}"`;
        const why = misfit(f, fv, p);
        if (why) return why;
      }
      return null;
    }
    case 'repeated': {
      if (!Array.isArray(v)) return `${where} must be a list`;
      for (let i = 0; i < v.length; i++) {
        if (v[i] === null) return `${where}[${i}] is null`;
        const why = misfit(n.elem, v[i], `${path}[${i}]`);
        if (why) return why;
      }
      return null;
    }
    case 'map': {
      if (!isObject(v)) return `${where} must be an object (a map)`;
      for (const [k, mv] of Object.entries(v)) {
        const why = misfit(n.elem, mv, `${path}[${JSON.stringify(k)}]`);
        if (why) return why;
      }
      return null;
    }
    case 'scalar': return scalarMisfit(n.scalar, v, where);
    case 'enum':
      if (typeof v !== 'string' || !n.values.includes(v)) return `${where} is not one of ${n.values.join(', ')}`;
      return null;
    case 'wkt': {
      if (n.scalar) return scalarMisfit(n.scalar, v, where);
      if (['Timestamp', 'Duration', 'FieldMask'].includes(n.wkt)) return typeof v === 'string' ? null : `${where} must be text`;
      if (n.wkt === 'Struct' || n.wkt === 'Empty' || n.wkt === 'Any') return isObject(v) ? null : `${where} must be an object`;
      if (n.wkt === 'ListValue') return Array.isArray(v) ? null : `${where} must be a list`;
      return null; // Value: anything
    }
    case 'unknown': return typeof v === 'string' ? null : `${where} (${n.type}) can only be edited as JSON`;
    default: return `${where} (${n.type}) recurses: use raw JSON`;
  }
}

function scalarMisfit(scalar, v, where) {
  const k = SCALARS[scalar];
  if (k === 'string' || k === 'bytes') return typeof v === 'string' ? null : `${where} must be text`;
  if (k === 'bool') return typeof v === 'boolean' ? null : `${where} must be true or false`;
  if (k === 'float') {
    if (typeof v === 'number') return null;
    return typeof v === 'string' && v.trim() !== '' && (Number.isFinite(Number(v)) || /^-?Infinity$|^NaN$/.test(v)) ? null : `${where} must be a number`;
  }
  if (typeof v === 'number') return Number.isInteger(v) ? null : `${where} must be a whole number`;
  return typeof v === 'string' && INT.test(v.trim()) ? null : `${where} must be a whole number`;
}

/** The type text shown for a field ("repeated pkg.Item", "map<string, int32>", ...). */
export function typeLabel(n) {
  return n.type || (n.kind === 'message' ? n.name : n.kind);
}

/** The message node inside a field (itself, or the element of repeated/map), if any. */
function innerMessage(n) {
  if (n.kind === 'message') return n;
  if ((n.kind === 'repeated' || n.kind === 'map') && n.elem.kind === 'message') return n.elem;
  return null;
}

function innerOf(n) {
  return n.kind === 'repeated' || n.kind === 'map' ? n.elem : n;
}

/** A readable tree of a request/response schema; nested messages and enums collapse. */
export function treeView(root) {
  if (!root) return h('p', { class: 'muted' }, 'Not documented.');
  if (!root.fields.length) return h('p', { class: 'muted' }, 'No fields.');
  return h('ul', { class: 'tree' }, root.fields.map(fieldItem));
}

function fieldItem(f) {
  const inner = innerOf(f);
  const label = [h('code', { class: 'fname' }, f.name), ' ', h('span', { class: 'ftype' }, typeLabel(f))];
  if (inner.kind === 'enum') label.push(' ', badge('enum', 'info'));
  if (inner.kind === 'wkt') label.push(' ', badge('well-known', 'neutral'));
  if (inner.kind === 'recursive') label.push(' ', badge('recursive', 'warn'));
  const msg = innerMessage(f);
  if (msg && msg.fields.length) {
    return h('li', null, h('details', null, h('summary', null, label), h('ul', { class: 'tree' }, msg.fields.map(fieldItem))));
  }
  if (inner.kind === 'enum' && inner.values.length) {
    return h('li', null, h('details', null, h('summary', null, label),
      h('ul', { class: 'enum-values' }, inner.values.map((v) => h('li', null, h('code', null, v))))));
  }
  return h('li', null, h('span', { class: 'leaf' }, label));
}

/** A plain-text outline of the fields ("name string", nested indented), for the terminal. */
export function fieldLines(root, indent = '') {
  if (!root || !root.fields) return [];
  const out = [];
  for (const f of root.fields) {
    const inner = innerOf(f);
    let line = `${indent}${f.name} ${typeLabel(f)}`;
    if (inner.kind === 'enum' && inner.values.length) line += ` {${inner.values.join(', ')}}`;
    if (inner.kind === 'recursive') line += ' (recursive)';
    out.push(line);
    const msg = innerMessage(f);
    if (msg) out.push(...fieldLines(msg, `${indent}  `));
  }
  return out;
}
