// terminal.js — the browser terminal (#/terminal), like micro v1's: an output log and a prompt
// with history (ArrowUp/ArrowDown). Read-only verbs parsed here, quotes respected (single and
// double; the leading word "micro" is optional): help, services, describe, call, stream,
// health, publish, clear. Output is text nodes only.

import { h, uid, prettyJSON } from './dom.js';
import { get, post, seg, errorFields, ApiError } from './api.js';
import { analyse, fieldLines } from './schema.js';
import { openStream } from './stream.js';

const VERBS = ['help', 'services', 'describe', 'call', 'stream', 'health', 'publish', 'clear'];
const HELP = [
  'Commands (the leading word "micro" is optional):',
  '  help                            this help',
  '  services                        list the services',
  '  describe SERVICE                versions, nodes and endpoints with their fields',
  '  call SERVICE ENDPOINT [JSON]    call an endpoint',
  '  stream SERVICE ENDPOINT [JSON]  a server stream: prints each message as it arrives (Ctrl+C stops it)',
  '  health SERVICE                  the health of each node',
  '  publish TOPIC JSON              publish a message to a topic',
  '  clear                           clear the screen',
  'Quote JSON with single quotes, e.g.  call greeter Greeter.Hello \'{"name":"John"}\'',
  'ArrowUp / ArrowDown walk through earlier commands.',
].join('\n');

const MAX_LINES = 2000;
const HISTORY_KEY = 'micro-web.terminal-history';
const saved = []; // output kept while the page is open, so leaving and coming back keeps it

/** Split a command line into words, POSIX-style: '...' literal, "..." with \" \\ \$ \` escapes. */
export function tokenize(line) {
  const out = [];
  let cur = '';
  let inWord = false;
  let quote = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = null; else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = null;
      else if (c === '\\' && i + 1 < line.length && '"\\$`'.includes(line[i + 1])) cur += line[++i];
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      inWord = true;
    } else if (c === '\\' && i + 1 < line.length) {
      cur += line[++i];
      inWord = true;
    } else if (/\s/.test(c)) {
      if (inWord) { out.push(cur); cur = ''; inWord = false; }
    } else {
      cur += c;
      inWord = true;
    }
  }
  if (quote) throw new Error(`unterminated ${quote === '"' ? 'double' : 'single'} quote`);
  if (inWord) out.push(cur);
  return out;
}

function parseJSONArg(text, what) {
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} is not valid JSON (${e.message}). Quote it with single quotes: '{"name":"John"}'`);
  }
}

function errorLines(e) {
  const f = errorFields(e);
  return [`error: ${f.status || 'Error'}${f.code ? ` (${f.code})` : ''}: ${f.detail || ''}`,
    `  id: ${f.id ?? ''}  code: ${f.code ?? ''}  status: ${f.status ?? ''}`].join('\n');
}

function loadHistory() {
  try {
    const v = JSON.parse(localStorage.getItem(HISTORY_KEY) || '[]');
    return Array.isArray(v) ? v.filter((s) => typeof s === 'string') : [];
  } catch { return []; }
}

export function mount(main, ctx) {
  ctx.title('Terminal');
  const inputId = uid('cmd');
  const output = h('div', {
    class: 'terminal-output', role: 'log', 'aria-live': 'polite', 'aria-label': 'Terminal output',
    'data-testid': 'terminal-output', tabindex: '0',
  });
  const input = h('input', {
    id: inputId, type: 'text', autocomplete: 'off', spellcheck: 'false', autocapitalize: 'off',
    'data-testid': 'terminal-input', class: 'mono',
  });
  const form = h('form', { class: 'prompt', onsubmit: submit },
    h('label', { for: inputId, class: 'sr-only' }, 'Command'),
    h('span', { class: 'prompt-sign', 'aria-hidden': 'true' }, 'micro>'), input,
    h('button', { type: 'submit', class: 'secondary' }, 'Run'));
  main.append(h('h1', null, 'Terminal'),
    h('p', { class: 'muted small' }, 'Read-only commands against this dashboard\'s API. Type help.'),
    h('div', { class: 'terminal' }, output, form));

  const history = loadHistory();
  let hIndex = history.length;
  let draft = '';
  let queue = Promise.resolve();
  let current = null; // a running stream
  let closed = false;

  function print(text, kind = 'out', keep = true) {
    if (keep) {
      saved.push({ text, kind });
      if (saved.length > MAX_LINES) saved.splice(0, saved.length - MAX_LINES);
    }
    output.append(h('div', { class: `line ${kind}` }, text));
    while (output.childElementCount > MAX_LINES) output.firstElementChild.remove();
    output.scrollTop = output.scrollHeight;
  }

  if (saved.length) for (const l of saved) print(l.text, l.kind, false);
  else print('micro web terminal. Type help for the commands.', 'info');

  function submit(e) {
    e.preventDefault();
    const line = input.value;
    input.value = '';
    draft = '';
    if (line.trim() === '') return;
    if (history[history.length - 1] !== line) history.push(line);
    if (history.length > 200) history.splice(0, history.length - 200);
    try { localStorage.setItem(HISTORY_KEY, JSON.stringify(history)); } catch { /* ignore */ }
    hIndex = history.length;
    if (current) print('(waiting for the running stream to end; Ctrl+C stops it)', 'info');
    queue = queue.then(() => (closed ? null : exec(line))).catch((err) => print(err instanceof ApiError ? errorLines(err) : `error: ${err && err.message ? err.message : err}`, 'err'));
  }

  input.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowUp') {
      if (hIndex === 0) return;
      e.preventDefault();
      if (hIndex === history.length) draft = input.value;
      hIndex -= 1;
      input.value = history[hIndex];
    } else if (e.key === 'ArrowDown') {
      if (hIndex >= history.length) return;
      e.preventDefault();
      hIndex += 1;
      input.value = hIndex === history.length ? draft : history[hIndex];
    } else if (e.key === 'c' && e.ctrlKey && current) {
      e.preventDefault();
      print('^C', 'cmd');
      current.abort();
    }
  });

  async function exec(line) {
    print(`$ ${line}`, 'cmd');
    let words;
    try { words = tokenize(line); } catch (err) { print(`error: ${err.message}`, 'err'); return; }
    if (words[0] === 'micro') words.shift();
    const [verb, ...args] = words;
    if (!verb) return;
    const need = (n, usage) => {
      if (args.length < n) throw new Error(`usage: ${usage}`);
    };
    switch (verb) {
      case 'help': print(HELP); return;
      case 'clear': output.replaceChildren(); saved.length = 0; return;
      case 'services': {
        const data = await get('api/services');
        const list = (data && data.services) || [];
        print(list.length ? list.map((s) => s.name).join('\n') : '(no services)');
        return;
      }
      case 'describe': need(1, 'describe SERVICE'); print(describe(await get(`api/services/${seg(args[0])}`))); return;
      case 'health': {
        need(1, 'health SERVICE');
        const data = await get(`api/health/${seg(args[0])}`);
        const nodes = (data && data.nodes) || [];
        print(nodes.length ? nodes.map((n) => `${n.id}  ${n.address}  ${n.version ?? ''}  ${n.health}`).join('\n') : '(no nodes)');
        return;
      }
      case 'call': {
        need(2, 'call SERVICE ENDPOINT [JSON]');
        if (args.length > 3) throw new Error('too many arguments: quote the JSON with single quotes');
        const request = parseJSONArg(args[2], 'the request');
        const res = await post('api/call', { service: args[0], endpoint: args[1], request, metadata: {} });
        if (res && res.ok) print(prettyJSON(res.message ?? null));
        else print(errorLines((res && res.error) || {}), 'err');
        return;
      }
      case 'stream': {
        need(2, 'stream SERVICE ENDPOINT [JSON]');
        if (args.length > 3) throw new Error('too many arguments: quote the JSON with single quotes');
        const request = parseJSONArg(args[2], 'the request');
        await runStream(args[0], args[1], request);
        return;
      }
      case 'publish': {
        need(2, 'publish TOPIC JSON');
        if (args.length > 2) throw new Error('too many arguments: quote the JSON with single quotes');
        const message = parseJSONArg(args[1], 'the message');
        await post('api/publish', { topic: args[0], message, metadata: {} });
        print(`published to ${args[0]}`);
        return;
      }
      default:
        print(`unknown command "${verb}". Commands: ${VERBS.join(', ')}. Type help for details.`, 'err');
    }
  }

  function runStream(service, endpoint, request) {
    return new Promise((resolve) => {
      let n = 0;
      current = openStream({
        service, endpoint, metadata: {}, requests: [request],
        onMessage(v) { n += 1; print(typeof v === 'string' ? v : prettyJSON(v)); },
        onError(err) { print(errorLines(err), 'err'); },
        onClose({ aborted, errored }) {
          current = null;
          if (!errored) print(`(stream ${aborted ? 'stopped' : 'ended'}: ${n} message${n === 1 ? '' : 's'})`, 'info');
          resolve();
        },
      });
    });
  }

  input.focus();
  return () => {
    closed = true;
    if (current) current.abort();
  };
}

function describe(data) {
  const lines = [data.name];
  const versions = data.versions || [];
  lines.push(`  versions: ${versions.map((v) => v.version).join(', ') || '(none)'}`);
  const nodes = versions.flatMap((v) => v.nodes || []);
  lines.push('  nodes:');
  if (!nodes.length) lines.push('    (none)');
  for (const n of nodes) lines.push(`    ${n.id}  ${n.address}  ${n.health || ''}`);
  const seen = new Set();
  lines.push('  endpoints:');
  for (const v of versions) {
    for (const ep of v.endpoints || []) {
      if (seen.has(ep.name)) continue;
      seen.add(ep.name);
      const kind = ep.stream ? `${ep.stream} stream` : 'unary';
      lines.push(`    ${ep.name} (${kind}${ep.idempotent ? ', idempotent' : ''})`);
      for (const [label, value] of [['request', ep.request], ['response', ep.response]]) {
        const type = value ? value.type || value.name : 'not documented';
        lines.push(`      ${label} ${type}`);
        for (const l of fieldLines(analyse(value, data.enums || {}).root)) lines.push(`        ${l}`);
      }
    }
  }
  if (!seen.size) lines.push('    (none)');
  const subs = versions.flatMap((v) => v.subscribers || []);
  if (subs.length) {
    lines.push('  subscribers:');
    for (const s of subs) lines.push(`    ${s.topic}${s.queue ? ` (queue ${s.queue})` : ''}`);
  }
  return lines.join('\n');
}
