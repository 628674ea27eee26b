// editor.js — the Call page's request editor: "Form" and "Raw JSON" tabs kept in sync.
// Switching Form → Raw writes the form's value as JSON; Raw → Form only when the JSON parses
// and fits the form (otherwise the raw tab stays, with the reason in the inline alert).
// A schema the form cannot render (recursive, or not documented) gets only the raw tab and a
// notice. Invalid JSON is flagged as you type and again before anything is sent.

import { h, uid, prettyJSON, debounce } from './dom.js';
import { defaultValue, misfit } from './schema.js';
import { buildForm } from './form.js';

/**
 * requestEditor(analysis from schema.analyse, {notice, onSubmit}) →
 * {el, read() → value | null (null: a problem was flagged), write(value), mode()}
 */
export function requestEditor(analysis, { notice, onSubmit } = {}) {
  const root = analysis.root;
  const formOk = Boolean(root && analysis.renderable);
  const form = formOk ? buildForm(root) : null;
  const ids = { tabForm: uid('tab'), tabRaw: uid('tab'), panelForm: uid('panel'), panelRaw: uid('panel'), raw: uid('raw'), err: uid('err') };

  const rawArea = h('textarea', {
    id: ids.raw, class: 'mono raw', rows: '10', spellcheck: 'false', 'data-testid': 'raw-json',
    'aria-describedby': ids.err,
  });
  rawArea.value = prettyJSON(defaultValue(root));
  const jsonError = h('p', { id: ids.err, class: 'inline-error', role: 'alert', 'data-testid': 'json-error', hidden: true });
  const formError = h('div', { class: 'inline-error', role: 'alert', 'data-testid': 'form-error', hidden: true });

  const tabs = [];
  const tabForm = formOk ? h('button', {
    type: 'button', role: 'tab', id: ids.tabForm, 'aria-controls': ids.panelForm, 'data-testid': 'tab-form',
  }, 'Form') : null;
  const tabRaw = h('button', {
    type: 'button', role: 'tab', id: ids.tabRaw, 'aria-controls': ids.panelRaw, 'data-testid': 'tab-raw',
  }, 'Raw JSON');
  if (tabForm) tabs.push(tabForm);
  tabs.push(tabRaw);
  const tablist = h('div', { role: 'tablist', 'aria-label': 'Request editor', class: 'tabs' }, tabs);

  const panelForm = formOk ? h('div', {
    role: 'tabpanel', id: ids.panelForm, 'aria-labelledby': ids.tabForm, class: 'panel', 'data-testid': 'panel-form',
  }, h('form', { class: 'request-form', novalidate: true, onsubmit: (e) => { e.preventDefault(); if (onSubmit) onSubmit(); } }, form.el), formError) : null;
  const panelRaw = h('div', {
    role: 'tabpanel', id: ids.panelRaw, 'aria-labelledby': ids.tabRaw, class: 'panel', 'data-testid': 'panel-raw',
  }, h('label', { for: ids.raw }, 'Request JSON'), rawArea, jsonError);

  const fallback = formOk ? null : h('p', { class: 'notice', 'data-testid': 'form-fallback' },
    notice || (root
      ? `This request's schema recurses (${analysis.recursive.join(', ')}), so it can't be shown as a form: write it as JSON.`
      : 'The registry does not describe this request, so there is no form: write it as JSON.'));

  let mode = formOk ? 'form' : 'raw';

  function showJsonError(msg) {
    if (msg) {
      if (jsonError.textContent !== msg) jsonError.textContent = msg;
      jsonError.hidden = false;
      rawArea.setAttribute('aria-invalid', 'true');
    } else {
      jsonError.hidden = true;
      jsonError.textContent = '';
      rawArea.removeAttribute('aria-invalid');
    }
  }

  /** Parse the raw text: {value} or {error}. Empty text counts as {}. */
  function parseRaw() {
    const text = rawArea.value.trim();
    if (text === '') return { value: {} };
    try {
      const value = JSON.parse(text);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) return { error: 'The request must be a JSON object ({...}).' };
      return { value };
    } catch (e) {
      return { error: `Invalid JSON: ${e.message}` };
    }
  }

  const liveCheck = debounce(() => {
    const r = parseRaw();
    showJsonError(r.error || null);
  }, 250);
  rawArea.addEventListener('input', liveCheck);

  function select(next, focus = false) {
    if (next === mode && tabs.length) { paint(); return true; }
    if (next === 'raw' && form) {
      rawArea.value = prettyJSON(form.read().value);
      showJsonError(null);
    }
    if (next === 'form') {
      const r = parseRaw();
      if (r.error) { showJsonError(`${r.error} — fix it to switch to the form.`); return false; }
      const why = misfit(root, r.value);
      if (why) { showJsonError(`This JSON doesn't fit the form (${why}): keep editing it here.`); return false; }
      form.write(r.value);
      formError.hidden = true;
    }
    mode = next;
    paint();
    if (focus) (mode === 'form' ? tabForm : tabRaw).focus();
    return true;
  }

  function paint() {
    for (const t of tabs) {
      const on = (t === tabForm && mode === 'form') || (t === tabRaw && mode === 'raw');
      t.setAttribute('aria-selected', String(on));
      t.tabIndex = on ? 0 : -1;
    }
    if (panelForm) panelForm.hidden = mode !== 'form';
    panelRaw.hidden = mode !== 'raw';
  }

  if (tabForm) tabForm.addEventListener('click', () => select('form'));
  tabRaw.addEventListener('click', () => select('raw'));
  tablist.addEventListener('keydown', (e) => {
    if (!['ArrowLeft', 'ArrowRight', 'Home', 'End'].includes(e.key) || tabs.length < 2) return;
    e.preventDefault();
    const target = e.key === 'ArrowLeft' || e.key === 'Home' ? 'form' : 'raw';
    select(target, true);
  });
  paint();

  const el = h('div', { class: 'editor' }, fallback, tablist, panelForm, panelRaw);

  return {
    el,
    mode: () => mode,
    /** The request to send, or null when something was flagged. */
    read() {
      if (mode === 'raw') {
        liveCheck.cancel();
        const r = parseRaw();
        showJsonError(r.error || null);
        if (r.error) { rawArea.focus(); return null; }
        return r.value;
      }
      const { value, errors } = form.read();
      if (errors.length) {
        formError.replaceChildren(h('p', null, 'Fix these fields first:'),
          h('ul', null, errors.map((e) => h('li', null, e.message))));
        formError.hidden = false;
        return null;
      }
      formError.hidden = true;
      return value;
    },
    /** Load a value (history restore): raw always; the form when it fits. */
    write(value) {
      rawArea.value = prettyJSON(value);
      showJsonError(null);
      if (form && !misfit(root, value)) {
        form.write(value);
      } else if (mode === 'form') {
        mode = 'raw';
        paint();
      }
    },
  };
}
