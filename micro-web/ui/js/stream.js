// stream.js — the websocket client for streaming calls (api/stream), shared by the Call page
// and the terminal. Protocol: the first frame is the setup {csrf, service, endpoint, metadata,
// address, timeout}; then one text frame of JSON per request; an EMPTY text frame ends the
// requests. The server sends each reply as JSON text, an error as {"error": {...}}, then closes
// (code 1000 when the stream ended well). A socket closing any other way is reported as an error.

import { wsUrl, getCsrf, checkSession } from './api.js';

/** True when a frame is the server's error frame: exactly {"error": {id, code, detail, status}}. */
function isErrorFrame(v) {
  if (!v || typeof v !== 'object' || Array.isArray(v)) return false;
  const keys = Object.keys(v);
  return keys.length === 1 && keys[0] === 'error' && v.error && typeof v.error === 'object'
    && ('detail' in v.error || 'code' in v.error || 'status' in v.error);
}

/**
 * openStream({service, endpoint, metadata, address, timeout, requests,
 *             onOpen, onMessage(value), onError(fields), onClose({code, reason, errored, aborted})})
 * requests: when given (server streams), they are sent right after the setup, then the empty
 * frame. Returns {send(value) → bool, end(), abort(), readyState()}.
 */
export function openStream(opts) {
  const ws = new WebSocket(wsUrl('api/stream'));
  let opened = false;
  let errored = false;
  let aborted = false;
  let ended = false;
  const queue = []; // frames asked for before the socket opened

  ws.onopen = () => {
    opened = true;
    ws.send(JSON.stringify({
      csrf: getCsrf(),
      service: opts.service,
      endpoint: opts.endpoint,
      metadata: opts.metadata || {},
      address: opts.address || null,
      timeout: opts.timeout === undefined || opts.timeout === '' ? null : opts.timeout,
    }));
    if (Array.isArray(opts.requests)) {
      for (const r of opts.requests) ws.send(JSON.stringify(r));
      ws.send('');
      ended = true;
    }
    for (const frame of queue.splice(0)) ws.send(frame);
    if (opts.onOpen) opts.onOpen();
  };

  ws.onmessage = (e) => {
    if (typeof e.data !== 'string') return;
    let v;
    try { v = JSON.parse(e.data); } catch { v = e.data; }
    if (isErrorFrame(v)) {
      errored = true;
      if (opts.onError) opts.onError(v.error);
      return;
    }
    if (opts.onMessage) opts.onMessage(v);
  };

  ws.onclose = (e) => {
    if (!aborted && !errored && e.code !== 1000) {
      errored = true;
      if (!opened) checkSession();
      const detail = e.reason
        || (opened ? `the stream closed early (websocket close code ${e.code})` : 'could not open the stream (the websocket was refused)');
      if (opts.onError) opts.onError({ id: 'micro.web', code: e.code, detail, status: 'Stream Closed' });
    }
    if (opts.onClose) opts.onClose({ code: e.code, reason: e.reason, errored, aborted });
  };

  return {
    send(value) {
      if (ended || ws.readyState > WebSocket.OPEN) return false;
      const frame = JSON.stringify(value);
      if (ws.readyState === WebSocket.CONNECTING) queue.push(frame);
      else ws.send(frame);
      return true;
    },
    /** End the requests (the empty frame); replies keep coming until the server closes. */
    end() {
      if (ended || ws.readyState > WebSocket.OPEN) return;
      ended = true;
      if (ws.readyState === WebSocket.CONNECTING) queue.push('');
      else ws.send('');
    },
    /** Stop listening (user cancelled). */
    abort() {
      aborted = true;
      if (ws.readyState === WebSocket.OPEN || ws.readyState === WebSocket.CONNECTING) ws.close(1000, 'cancelled');
    },
    get ended() { return ended; },
    readyState() { return ws.readyState; },
  };
}
