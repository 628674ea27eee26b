// call.js — the Call page (#/call/SERVICE/ENDPOINT): request editor (form / raw JSON), metadata,
// node picker, timeout, Send; the response panel (status, time, node, headers, trailers, reply,
// go-micro error fields); streaming endpoints over the websocket (server streams list replies
// as they arrive; client/bidi streams get a send box and Close); per-endpoint history in
// localStorage; "Copy as curl" / "Copy as micro call".

import { h, uid, badge, errorBox, kvEditor, kvTable, copyText, prettyJSON, fmtTime } from './dom.js';
import { get, post, seg, errorFields } from './api.js';
import { analyse, defaultValue } from './schema.js';
import { requestEditor } from './editor.js';
import { openStream } from './stream.js';
import { loadHistory, addHistory, clearHistory } from './history.js';
import { curlCommand, microCommand } from './commands.js';

const STREAM_LABEL = { server: 'server stream', client: 'client stream', bidirectional: 'bidirectional stream' };

/** "OK" or the error's status and code, e.g. "Not Found (404)". */
function statusText(ok, err) {
  if (ok) return 'OK';
  const e = err || {};
  return `${e.status || 'Error'}${e.code !== undefined && e.code !== null && e.code !== '' ? ` (${e.code})` : ''}`;
}

export function mount(main, ctx) {
  const [service = '', endpoint = ''] = ctx.params;
  ctx.title(`Call ${service} ${endpoint}`);
  const loading = h('p', { class: 'muted', role: 'status' }, 'Loading…');
  main.append(
    h('p', { class: 'crumbs' }, h('a', { href: `#/service/${seg(service)}` }, `← ${service}`)),
    h('h1', null, 'Call ', h('code', null, service), ' ', h('code', null, endpoint)),
    loading,
  );
  const page = { stream: null };
  get(`api/services/${seg(service)}`, { signal: ctx.signal })
    .then((data) => { if (!ctx.signal.aborted) { loading.remove(); build(main, service, endpoint, data, null, page); } })
    .catch((err) => {
      if (ctx.signal.aborted || (err && err.name === 'AbortError')) return;
      loading.remove();
      build(main, service, endpoint, null, errorFields(err), page);
    });
  return () => { if (page.stream) page.stream.abort(); };
}

function build(main, service, endpoint, data, loadError, page) {
  const versions = (data && data.versions) || [];
  let ep = null;
  for (const v of versions) {
    ep = (v.endpoints || []).find((e) => e.name === endpoint) || null;
    if (ep) break;
  }
  const nodes = versions.flatMap((v) => v.nodes || []);
  const kind = ep && ep.stream ? ep.stream : null;
  const analysis = analyse(ep ? ep.request : null, (data && data.enums) || {});

  if (loadError) main.append(errorBox(loadError, 'load-error'));
  else if (!ep) {
    main.append(h('p', { class: 'notice', 'data-testid': 'endpoint-missing' },
      `The registry lists no endpoint ${endpoint} on ${service}; you can still call it with raw JSON.`));
  }
  main.append(h('p', { class: 'badges' },
    badge(kind ? STREAM_LABEL[kind] || kind : 'unary', kind ? 'info' : 'neutral', { 'data-testid': 'stream-kind' }),
    ep && ep.idempotent ? badge('idempotent', 'ok') : null));

  // --- request -------------------------------------------------------------------------
  const editor = requestEditor(analysis, { onSubmit: () => send() });
  const meta = kvEditor({ legend: 'Metadata', testid: 'metadata', addText: 'Add metadata' });
  const nodeId = uid('node');
  const nodeSel = h('select', { id: nodeId, 'data-testid': 'node' },
    h('option', { value: '' }, 'any node'),
    nodes.map((n) => h('option', { value: n.address }, n.address)));
  const timeoutId = uid('timeout');
  const timeoutInput = h('input', {
    id: timeoutId, type: 'number', min: '0', step: 'any', inputmode: 'decimal', placeholder: 'default',
    'data-testid': 'timeout', class: 'short',
  });
  const optionsError = h('p', { class: 'inline-error', role: 'alert', hidden: true, 'data-testid': 'options-error' });
  const isInputStream = kind === 'client' || kind === 'bidirectional';
  const sendBtn = h('button', { type: 'button', class: 'primary', 'data-testid': 'send', onclick: () => send() },
    isInputStream ? 'Open stream' : 'Send');
  const stopBtn = h('button', { type: 'button', class: 'secondary', hidden: true, 'data-testid': 'stream-stop', onclick: () => stopStream() }, 'Stop stream');
  const copyCurl = h('button', { type: 'button', class: 'secondary', 'data-testid': 'copy-curl', onclick: () => copy('curl') }, 'Copy as curl');
  const copyMicro = h('button', { type: 'button', class: 'secondary', 'data-testid': 'copy-micro', onclick: () => copy('micro') }, 'Copy as micro call');
  const copyStatus = h('p', { class: 'muted small', role: 'status', 'data-testid': 'copy-status' });
  const copied = h('pre', { class: 'command', 'data-testid': 'copied', hidden: true });

  main.append(h('section', { class: 'card', 'aria-label': 'Request' },
    h('h2', null, 'Request'),
    editor.el,
    meta.el,
    h('div', { class: 'row' },
      h('div', { class: 'field' }, h('label', { for: nodeId }, 'Node'), nodeSel),
      h('div', { class: 'field' }, h('label', { for: timeoutId }, 'Timeout (seconds)'), timeoutInput)),
    optionsError,
    h('div', { class: 'actions' }, sendBtn, stopBtn, copyCurl, copyMicro),
    copyStatus, copied));

  // --- client / bidi stream send box ------------------------------------------------------
  const streamBox = {};
  if (isInputStream) {
    const sid = uid('stream-input');
    streamBox.input = h('textarea', { id: sid, class: 'mono', rows: '4', spellcheck: 'false', 'data-testid': 'stream-input' });
    streamBox.input.value = JSON.stringify(defaultValue(analysis.root));
    streamBox.error = h('p', { class: 'inline-error', role: 'alert', hidden: true, 'data-testid': 'stream-json-error' });
    streamBox.sent = h('p', { class: 'muted small', role: 'status', 'data-testid': 'stream-sent' }, '0 sent');
    streamBox.send = h('button', { type: 'button', class: 'primary', 'data-testid': 'stream-send', onclick: () => streamSend() }, 'Send');
    streamBox.close = h('button', { type: 'button', class: 'secondary', disabled: true, 'data-testid': 'stream-close', onclick: () => streamClose() }, 'Close');
    main.append(h('section', { class: 'card', 'aria-label': 'Stream messages to send' },
      h('h2', null, 'Send on the stream'),
      h('div', { class: 'field' }, h('label', { for: sid }, 'Message (JSON)'), streamBox.input),
      streamBox.error,
      h('div', { class: 'actions' }, streamBox.send, streamBox.close), streamBox.sent));
  }

  // --- response ------------------------------------------------------------------------------
  const statusLine = h('p', { class: 'status', role: 'status', 'data-testid': 'status' }, 'No call yet.');
  const responseBody = h('div', { class: 'response-body' });
  main.append(h('section', { class: 'card', 'data-testid': 'response', 'aria-label': 'Response' },
    h('h2', null, 'Response'), statusLine, responseBody));

  // --- history -------------------------------------------------------------------------------
  const historyList = h('ol', { class: 'history', 'data-testid': 'history' });
  const historyEmpty = h('p', { class: 'muted' }, 'No calls yet.');
  const clearBtn = h('button', {
    type: 'button', class: 'secondary small', 'data-testid': 'history-clear',
    onclick: () => { clearHistory(service, endpoint); renderHistory([]); },
  }, 'Clear history');
  main.append(h('section', { class: 'card', 'aria-label': 'History' }, h('h2', null, 'History'), historyEmpty, historyList, clearBtn));
  renderHistory(loadHistory(service, endpoint));

  function renderHistory(list) {
    historyEmpty.hidden = list.length > 0;
    clearBtn.hidden = list.length === 0;
    historyList.replaceChildren(...list.map((entry) => {
      const req = JSON.stringify(entry.request ?? {});
      return h('li', null, h('button', {
        type: 'button', class: 'history-item', 'data-testid': 'history-item',
        onclick: () => restore(entry),
      },
      h('span', { class: `badge badge-${entry.ok ? 'ok' : 'bad'}` }, entry.status || ''), ' ',
      h('time', { datetime: entry.at }, fmtTime(entry.at)), ' ',
      h('code', { class: 'truncate' }, req.length > 120 ? `${req.slice(0, 117)}…` : req)));
    }));
  }

  function restore(entry) {
    editor.write(entry.request ?? {});
    meta.set(entry.metadata || {});
    nodeSel.value = [...nodeSel.options].some((o) => o.value === entry.address) ? entry.address : '';
    timeoutInput.value = entry.timeout ?? '';
    copyStatus.textContent = `Restored the call from ${fmtTime(entry.at)}.`;
    sendBtn.focus();
  }

  function record(request, metadata, address, timeout, ok, err, elapsed) {
    renderHistory(addHistory(service, endpoint, {
      at: new Date().toISOString(), request, metadata, address: address || '', timeout: timeout ?? '',
      status: statusText(ok, err), ok, elapsed_ms: elapsed,
    }));
  }

  // --- reading the options ---------------------------------------------------------------
  function readTimeout() {
    const raw = timeoutInput.value.trim();
    if (raw === '') return { value: undefined };
    const n = Number(raw);
    if (!Number.isFinite(n) || n <= 0) return { error: 'The timeout must be a number of seconds above 0.' };
    return { value: n };
  }

  /** Everything needed for a call, or null when something was flagged. */
  function readCall() {
    const request = editor.read();
    const t = readTimeout();
    optionsError.hidden = !t.error;
    optionsError.textContent = t.error || '';
    if (t.error) timeoutInput.setAttribute('aria-invalid', 'true'); else timeoutInput.removeAttribute('aria-invalid');
    if (request === null || t.error) return null;
    return { request, metadata: meta.get(), address: nodeSel.value || undefined, timeout: t.value };
  }

  // --- unary -----------------------------------------------------------------------------
  let busy = false;
  async function send() {
    if (busy) return;
    const c = readCall();
    if (!c) return;
    if (kind) { startStream(c); return; }
    busy = true;
    statusLine.textContent = 'Calling…';
    statusLine.className = 'status pending';
    responseBody.replaceChildren();
    const body = { service, endpoint, request: c.request, metadata: c.metadata };
    if (c.address) body.address = c.address;
    if (c.timeout !== undefined) body.timeout = c.timeout;
    const started = performance.now();
    let res;
    try {
      res = await post('api/call', body);
    } catch (err) {
      res = { ok: false, error: errorFields(err), elapsed_ms: performance.now() - started };
    } finally {
      busy = false;
    }
    if (!responseBody.isConnected) return;
    showUnary(res || {});
    record(c.request, c.metadata, c.address, c.timeout, Boolean(res && res.ok), res && res.error, res && res.elapsed_ms);
  }

  function showUnary(res) {
    const ok = res.ok === true;
    statusLine.textContent = statusText(ok, res.error);
    statusLine.className = `status ${ok ? 'ok' : 'bad'}`;
    const facts = [['Time', 'elapsed', typeof res.elapsed_ms === 'number' ? `${res.elapsed_ms.toFixed(1)} ms` : '—']];
    if (res.node) facts.push(['Node', 'response-node', [res.node.id, res.node.address].filter(Boolean).join(' · ')]);
    const parts = [h('dl', { class: 'facts' }, facts.map(([k, id, v]) => [h('dt', null, k), h('dd', { 'data-testid': id }, v)]))];
    if (!ok) parts.push(errorBox(res.error || {}, 'error'));
    else parts.push(h('h3', null, 'Reply'), h('pre', { class: 'json', 'data-testid': 'reply' }, prettyJSON(res.message ?? null)));
    if (ok || res.headers) parts.push(h('h3', null, 'Headers'), kvTable(res.headers, 'Headers', 'headers'));
    if (ok || res.trailers) parts.push(h('h3', null, 'Trailers'), kvTable(res.trailers, 'Trailers', 'trailers'));
    responseBody.replaceChildren(...parts);
  }

  // --- streams ---------------------------------------------------------------------------
  let lastPrefill = streamBox.input ? streamBox.input.value : '';

  function startStream(c) {
    if (page.stream) page.stream.abort();
    const started = performance.now();
    const count = h('p', { class: 'muted small', 'data-testid': 'stream-count' }, '0 messages');
    const messages = h('ol', { class: 'messages', 'data-testid': 'stream-messages', 'aria-live': 'polite' });
    const elapsed = h('dd', { 'data-testid': 'elapsed' }, '—');
    responseBody.replaceChildren(h('dl', { class: 'facts' }, h('dt', null, 'Time'), elapsed), count, messages);
    statusLine.textContent = 'Streaming…';
    statusLine.className = 'status pending';
    stopBtn.hidden = false;
    let n = 0;
    let sent = 0;
    let lastError = null;
    if (isInputStream) {
      if (streamBox.input.value === lastPrefill) {
        streamBox.input.value = JSON.stringify(c.request);
        lastPrefill = streamBox.input.value;
      }
      streamBox.sent.textContent = '0 sent';
      streamBox.close.disabled = false;
    }
    const s = openStream({
      service, endpoint, metadata: c.metadata, address: c.address, timeout: c.timeout,
      requests: isInputStream ? undefined : [c.request],
      onMessage(v) {
        n += 1;
        messages.append(h('li', { class: 'message', 'data-testid': 'stream-message' },
          h('span', { class: 'msg-n' }, `#${n}`), h('pre', { class: 'json' }, typeof v === 'string' ? v : prettyJSON(v))));
        count.textContent = `${n} message${n === 1 ? '' : 's'}`;
      },
      onError(err) {
        lastError = err;
        responseBody.append(errorBox(err, 'error'));
      },
      onClose({ aborted }) {
        if (page.stream === s) page.stream = null;
        if (!responseBody.isConnected) return; // the page was left: nothing to show or record
        stopBtn.hidden = true;
        if (isInputStream) streamBox.close.disabled = true;
        const ms = performance.now() - started;
        elapsed.textContent = `${ms.toFixed(1)} ms`;
        const ok = !lastError && !aborted;
        statusLine.textContent = aborted && !lastError ? 'Stopped' : statusText(ok, lastError);
        statusLine.className = `status ${ok ? 'ok' : 'bad'}`;
        record(c.request, c.metadata, c.address, c.timeout, ok, lastError || (aborted ? { status: 'Stopped' } : null), ms);
      },
    });
    s.counts = { get sent() { return sent; }, set sent(v) { sent = v; } };
    page.stream = s;
    return s;
  }

  function stopStream() {
    if (page.stream) page.stream.abort();
  }

  function streamSend() {
    const text = streamBox.input.value.trim();
    let value;
    try {
      value = text === '' ? {} : JSON.parse(text);
    } catch (e) {
      streamBox.error.textContent = `Invalid JSON: ${e.message}`;
      streamBox.error.hidden = false;
      streamBox.input.setAttribute('aria-invalid', 'true');
      return;
    }
    streamBox.error.hidden = true;
    streamBox.input.removeAttribute('aria-invalid');
    let s = page.stream;
    if (!s || s.ended) {
      const c = readCall();
      if (!c) return;
      s = startStream(c);
    }
    if (s.send(value)) {
      s.counts.sent += 1;
      streamBox.sent.textContent = `${s.counts.sent} sent`;
    }
  }

  function streamClose() {
    if (page.stream) {
      page.stream.end();
      streamBox.close.disabled = true;
      streamBox.sent.textContent = `${page.stream.counts.sent} sent · requests closed`;
    }
  }

  // --- copy as command ---------------------------------------------------------------------
  async function copy(which) {
    const c = readCall();
    if (!c) return;
    const cmd = which === 'curl'
      ? curlCommand(service, endpoint, c.request, c.metadata)
      : microCommand(service, endpoint, c.request, c.metadata);
    copied.textContent = cmd;
    copied.hidden = false;
    const ok = await copyText(cmd);
    copyStatus.textContent = ok
      ? `Copied the ${which === 'curl' ? 'curl' : 'micro call'} command.`
      : 'Could not reach the clipboard: select the command below and copy it.';
  }
}
