// api.js — talks to the dashboard's JSON API (see the API contract).
// Relative URLs only (they resolve under <base href>), JSON bodies, the CSRF header on
// POST/PUT/DELETE, error answers turned into an ApiError carrying go-micro's fields
// (id, code, detail, status), and any 401 sends the user back to the token wall.
// Also helpers for server-sent events (EventSource) and the websocket URL.

let csrf = '';
let unauthorized = () => {};

/** The CSRF token from GET api/session. */
export function setCsrf(token) { csrf = token || ''; }
export function getCsrf() { return csrf; }

/** Called (once per burst) whenever an API answer is 401. */
export function onUnauthorized(fn) { unauthorized = fn; }

/** An error answer, carrying go-micro's error fields. */
export class ApiError extends Error {
  constructor(fields, httpStatus) {
    const f = fields || {};
    super(f.detail || f.status || `HTTP ${httpStatus}`);
    this.name = 'ApiError';
    this.id = f.id ?? 'micro.web';
    this.code = f.code ?? httpStatus;
    this.detail = f.detail ?? '';
    this.status = f.status ?? '';
    this.httpStatus = httpStatus;
  }

  /** The go-micro error fields as a plain object. */
  get fields() {
    return { id: this.id, code: this.code, detail: this.detail, status: this.status };
  }
}

/** Turn any thrown value into go-micro error fields. */
export function errorFields(err) {
  if (err instanceof ApiError) return err.fields;
  if (err && typeof err === 'object' && ('detail' in err || 'code' in err)) return err;
  return { id: 'micro.web', code: 0, detail: String(err && err.message ? err.message : err), status: 'Error' };
}

const STATE_CHANGING = new Set(['POST', 'PUT', 'DELETE', 'PATCH']);

/**
 * request('GET', 'api/services') → parsed JSON (null for 204).
 * opts: {signal, auth: false (a 401 does not trigger the token wall; used by the login form)}
 */
export async function request(method, path, body, opts = {}) {
  const headers = { Accept: 'application/json' };
  const init = { method, headers, credentials: 'same-origin', cache: 'no-store', signal: opts.signal };
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  if (STATE_CHANGING.has(method)) headers['X-Micro-Csrf'] = csrf;

  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError({ id: 'micro.web', code: 0, detail: `network error: ${e && e.message ? e.message : e}`, status: 'Network Error' }, 0);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok) {
    const fields = data && data.error && typeof data.error === 'object'
      ? data.error
      : { id: 'micro.web', code: res.status, detail: text || res.statusText, status: res.statusText };
    const err = new ApiError(fields, res.status);
    if (res.status === 401 && opts.auth !== false) unauthorized(err);
    throw err;
  }
  return data;
}

export const get = (path, opts) => request('GET', path, undefined, opts);
export const post = (path, body, opts) => request('POST', path, body === undefined ? {} : body, opts);
export const put = (path, body, opts) => request('PUT', path, body, opts);
export const del = (path, opts) => request('DELETE', path, undefined, opts);

/** 'api/store?' + query string, skipping empty values. */
export function withQuery(path, params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `${path}?${s}` : path;
}

/** A path segment, encoded. */
export const seg = (s) => encodeURIComponent(s);

/** Re-read the session; a token-protected session that is not signed in shows the token wall. */
export async function checkSession() {
  try {
    const s = await get('api/session');
    if (s && s.csrf) setCsrf(s.csrf);
    if (s && s.token_required && !s.authenticated) unauthorized(new ApiError({ code: 401, status: 'Unauthorized', detail: 'sign in again' }, 401));
    return s;
  } catch {
    return null;
  }
}

/**
 * Listen to server-sent events at a relative path.
 * onData(parsedJSON) for each `event`; onState('connecting' | 'live' | 'reconnecting').
 * EventSource reconnects by itself; when the browser gives up (e.g. a 401 or 5xx answer),
 * the session is checked and the connection is retried after a pause.
 * Returns a function that closes the stream.
 */
export function subscribe(path, event, onData, onState = () => {}) {
  let es = null;
  let closed = false;
  let retry = null;
  let delay = 1000;

  function open() {
    if (closed) return;
    onState('connecting');
    es = new EventSource(path);
    es.onopen = () => { delay = 1000; onState('live'); };
    es.addEventListener(event, (e) => {
      onState('live');
      let data;
      try { data = JSON.parse(e.data); } catch { data = e.data; }
      onData(data);
    });
    es.onerror = () => {
      if (closed) return;
      onState('reconnecting');
      if (es.readyState === EventSource.CLOSED) {
        checkSession();
        retry = setTimeout(open, delay);
        delay = Math.min(delay * 2, 15000);
      }
    };
  }
  open();
  return () => {
    closed = true;
    clearTimeout(retry);
    if (es) es.close();
  };
}

/** ws:// or wss:// URL for a path under the base. */
export function wsUrl(path) {
  const u = new URL(path, document.baseURI);
  u.protocol = u.protocol === 'https:' ? 'wss:' : 'ws:';
  return u.href;
}
