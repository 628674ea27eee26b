// events.js — the Events page (#/events): publish a JSON message to a topic (api/publish; the
// JSON is checked before sending), and watch a topic live (api/topics/TOPIC/watch, event
// "message"): messages listed newest first with time, headers and body as text.

import { h, uid, chips, kvEditor, errorBox, fmtTime, prettyJSON, debounce } from './dom.js';
import { post, seg, subscribe, errorFields } from './api.js';

const MAX_MESSAGES = 500;

export function mount(main, ctx) {
  ctx.title('Events');
  main.append(h('h1', null, 'Events'));
  main.append(publishSection());
  const watch = watchSection();
  main.append(watch.el);
  return () => watch.stop();
}

function publishSection() {
  const topicId = uid('topic');
  const msgId = uid('msg');
  const errId = uid('err');
  const topic = h('input', { id: topicId, type: 'text', required: true, autocomplete: 'off', spellcheck: 'false', 'data-testid': 'publish-topic', 'data-search': true });
  const message = h('textarea', { id: msgId, class: 'mono', rows: '6', spellcheck: 'false', 'data-testid': 'publish-message', 'aria-describedby': errId });
  message.value = '{}';
  const jsonError = h('p', { id: errId, class: 'inline-error', role: 'alert', hidden: true, 'data-testid': 'publish-json-error' });
  const meta = kvEditor({ legend: 'Metadata', testid: 'publish-metadata', addText: 'Add metadata' });
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'publish' }, 'Publish');
  const result = h('div', { class: 'result', role: 'status', 'data-testid': 'publish-result' });

  function parse() {
    const text = message.value.trim();
    if (text === '') return { error: 'Write a JSON message (for example {}).' };
    try { return { value: JSON.parse(text) }; } catch (e) { return { error: `Invalid JSON: ${e.message}` }; }
  }
  function flag(err) {
    jsonError.hidden = !err;
    jsonError.textContent = err || '';
    if (err) message.setAttribute('aria-invalid', 'true'); else message.removeAttribute('aria-invalid');
  }
  const check = debounce(() => flag(parse().error), 250);
  message.addEventListener('input', check);

  let busy = false;
  async function publish(e) {
    e.preventDefault();
    if (busy) return;
    check.cancel();
    const t = topic.value.trim();
    const p = parse();
    flag(p.error);
    if (!t) {
      result.replaceChildren(h('span', { class: 'bad-text' }, 'Enter a topic.'));
      topic.setAttribute('aria-invalid', 'true');
      topic.focus();
      return;
    }
    topic.removeAttribute('aria-invalid');
    if (p.error) { message.focus(); return; }
    busy = true;
    result.replaceChildren(h('span', { class: 'muted' }, 'Publishing…'));
    try {
      await post('api/publish', { topic: t, message: p.value, metadata: meta.get() });
      result.replaceChildren(h('span', { class: 'ok-text' }, `Published to ${t} at ${fmtTime(new Date().toISOString())}.`));
    } catch (err) {
      result.replaceChildren(errorBox(errorFields(err), 'error'));
    } finally {
      busy = false;
    }
  }

  return h('section', { class: 'card', 'aria-labelledby': `${topicId}-h` },
    h('h2', { id: `${topicId}-h` }, 'Publish'),
    h('form', { class: 'stack', novalidate: true, onsubmit: publish, 'data-testid': 'publish-form' },
      h('div', { class: 'field' }, h('label', { for: topicId }, 'Topic'), topic),
      h('div', { class: 'field' }, h('label', { for: msgId }, 'Message (JSON)'), message, jsonError),
      meta.el,
      h('div', { class: 'actions' }, button)),
    result);
}

function watchSection() {
  const topicId = uid('wtopic');
  const topic = h('input', { id: topicId, type: 'text', autocomplete: 'off', spellcheck: 'false', 'data-testid': 'watch-topic' });
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'watch' }, 'Watch');
  const state = h('span', { class: 'live', role: 'status', 'data-testid': 'watch-status', 'data-state': 'idle' }, 'not watching');
  const count = h('p', { class: 'muted small', 'data-testid': 'watch-count' });
  const list = h('ol', { class: 'messages', 'data-testid': 'watch-messages', 'aria-live': 'polite', 'aria-relevant': 'additions' });
  let stopFn = null;
  let n = 0;

  function setState(s, text) {
    state.dataset.state = s;
    state.textContent = text;
  }

  function stop() {
    if (stopFn) stopFn();
    stopFn = null;
    button.textContent = 'Watch';
    topic.disabled = false;
    setState('idle', 'not watching');
  }

  function start(t) {
    n = 0;
    list.replaceChildren();
    count.textContent = '';
    button.textContent = 'Stop';
    topic.disabled = true;
    stopFn = subscribe(`api/topics/${seg(t)}/watch`, 'message', onMessage, (s) => {
      setState(s, s === 'live' ? `watching ${t}` : s);
    });
  }

  function onMessage(m) {
    if (!m || typeof m !== 'object') return;
    n += 1;
    const body = typeof m.body === 'string' ? m.body : prettyJSON(m.body);
    const item = h('li', { class: 'message', 'data-testid': 'watch-message' },
      h('div', { class: 'message-head' },
        h('time', { datetime: m.at || '' }, fmtTime(m.at)), ' ',
        h('code', null, m.topic || ''), ' ', chips(m.headers, 'no headers')),
      h('pre', { class: 'json', 'data-testid': 'message-body' }, body));
    list.prepend(item);
    while (list.childElementCount > MAX_MESSAGES) list.lastElementChild.remove();
    count.textContent = `${n} message${n === 1 ? '' : 's'} received${n > MAX_MESSAGES ? ` (showing the newest ${MAX_MESSAGES})` : ''}`;
  }

  function toggle(e) {
    e.preventDefault();
    if (stopFn) { stop(); return; }
    const t = topic.value.trim();
    if (!t) {
      topic.setAttribute('aria-invalid', 'true');
      setState('idle', 'enter a topic to watch');
      topic.focus();
      return;
    }
    topic.removeAttribute('aria-invalid');
    start(t);
  }

  const el = h('section', { class: 'card', 'aria-labelledby': `${topicId}-h` },
    h('h2', { id: `${topicId}-h` }, 'Watch'),
    h('form', { class: 'row', novalidate: true, onsubmit: toggle, 'data-testid': 'watch-form' },
      h('div', { class: 'field grow' }, h('label', { for: topicId }, 'Topic to watch'), topic),
      h('div', { class: 'actions' }, button, state)),
    count, list);
  return { el, stop };
}
