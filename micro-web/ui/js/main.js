// main.js — starts the dashboard: loads the session (token wall when a token is required and
// missing), routes on hashchange to the page modules, highlights the nav (aria-current="page"),
// and handles the global keys: "/" focuses the page's search/filter box (unless typing),
// Escape leaves the focused field.

import { h, uid, errorBox } from './dom.js';
import { get, post, setCsrf, onUnauthorized, errorFields } from './api.js';
import * as services from './services.js';
import * as service from './service.js';
import * as call from './call.js';
import * as events from './events.js';
import * as registry from './registry.js';
import * as store from './store.js';
import * as terminal from './terminal.js';

const ROUTES = {
  '': { page: services, nav: 'services' },
  service: { page: service, nav: 'services' },
  call: { page: call, nav: 'services' },
  events: { page: events, nav: 'events' },
  registry: { page: registry, nav: 'registry' },
  store: { page: store, nav: 'store' },
  terminal: { page: terminal, nav: 'terminal' },
};

const main = document.getElementById('main');
const nav = document.querySelector('nav.site-nav');
const sessionBox = document.getElementById('session');
let session = null;
let cleanup = null;
let controller = null;
let walled = false;
let firstRoute = true;

function decode(s) {
  try { return decodeURIComponent(s); } catch { return s; }
}

/** '#/call/greeter/Greeter.Hello' → {name: 'call', params: ['greeter', 'Greeter.Hello']} */
function parseHash() {
  const raw = location.hash.replace(/^#\/?/, '');
  const parts = raw === '' ? [''] : raw.split('/').map(decode);
  return { name: parts[0], params: parts.slice(1) };
}

function unmount() {
  if (controller) controller.abort();
  controller = null;
  if (cleanup) {
    try { cleanup(); } catch (e) { console.error(e); }
  }
  cleanup = null;
  main.replaceChildren();
}

function route() {
  if (walled || !session) return;
  unmount();
  const { name, params } = parseHash();
  const r = ROUTES[name];
  for (const a of nav.querySelectorAll('a[data-nav]')) {
    if (r && a.dataset.nav === r.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  controller = new AbortController();
  const ctx = {
    params,
    signal: controller.signal,
    session,
    title: (t) => { document.title = t ? `${t} · micro web` : 'micro web'; },
  };
  if (!r) {
    ctx.title('Not found');
    main.append(h('h1', null, 'Page not found'),
      h('p', null, 'No page at ', h('code', null, location.hash), '. ', h('a', { href: '#/' }, 'Go to the services.')));
  } else {
    try {
      cleanup = r.page.mount(main, ctx) || null;
    } catch (e) {
      console.error(e);
      main.append(errorBox(errorFields(e), 'error'));
    }
  }
  // After a navigation (not the first load), move focus to the new page's heading.
  if (!firstRoute) {
    const h1 = main.querySelector('h1');
    if (h1 && !main.contains(document.activeElement)) {
      h1.tabIndex = -1;
      h1.focus({ preventScroll: true });
    }
    window.scrollTo(0, 0);
  }
  firstRoute = false;
}

function renderSessionBox() {
  sessionBox.replaceChildren();
  if (!session) return;
  sessionBox.append(h('span', { class: 'muted small', 'data-testid': 'session-info' },
    `${session.namespace || ''} · v${session.version || '?'}`));
  if (session.token_required && session.authenticated) {
    sessionBox.append(h('button', { type: 'button', class: 'secondary small', 'data-testid': 'sign-out', onclick: signOut }, 'Sign out'));
  }
}

async function signOut() {
  try { await post('api/logout'); } catch { /* the session reload below decides */ }
  await start();
}

/** The token wall: only a sign-in form. */
function showWall(detail) {
  walled = true;
  unmount();
  nav.hidden = true;
  sessionBox.replaceChildren();
  document.title = 'Sign in · micro web';
  const inputId = uid('token');
  const input = h('input', { id: inputId, type: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'token-input' });
  const err = h('div', { 'data-testid': 'token-error' });
  if (detail) err.append(h('p', { class: 'inline-error', role: 'alert' }, detail));
  const button = h('button', { type: 'submit', class: 'primary', 'data-testid': 'token-submit' }, 'Sign in');
  const form = h('form', { class: 'stack token-form', 'data-testid': 'token-form', novalidate: true, onsubmit: login },
    h('div', { class: 'field' }, h('label', { for: inputId }, 'Access token'), input),
    h('div', { class: 'actions' }, button), err);

  async function login(e) {
    e.preventDefault();
    err.replaceChildren();
    button.disabled = true;
    try {
      await post('api/login', { token: input.value }, { auth: false });
      await start();
    } catch (ex) {
      const f = errorFields(ex);
      err.replaceChildren(h('p', { class: 'inline-error', role: 'alert' }, f.detail || f.status || 'Sign-in failed.'));
      input.focus();
      input.select();
    } finally {
      button.disabled = false;
    }
  }

  main.append(h('div', { class: 'wall card' },
    h('h1', null, 'Sign in'),
    h('p', { class: 'muted' }, 'This dashboard needs an access token.'), form));
  input.focus();
}

/** Load the session, then show the wall or the app. */
async function start() {
  let s;
  try {
    s = await get('api/session', { auth: false });
  } catch (e) {
    unmount();
    main.append(h('h1', null, 'micro web'), errorBox(errorFields(e), 'error'),
      h('p', null, h('button', { type: 'button', class: 'secondary', onclick: () => start() }, 'Try again')));
    return;
  }
  session = s || {};
  setCsrf(session.csrf);
  if (session.token_required && !session.authenticated) {
    showWall();
    return;
  }
  walled = false;
  nav.hidden = false;
  renderSessionBox();
  route();
}

let wallPending = false;
onUnauthorized(() => {
  if (walled || wallPending) return;
  wallPending = true;
  // Re-read the session (a fresh csrf) and show the wall.
  get('api/session', { auth: false })
    .then((s) => { session = s || session; if (s) setCsrf(s.csrf); })
    .catch(() => {})
    .finally(() => { wallPending = false; showWall('Your session has ended: sign in again.'); });
});

function isTyping(el) {
  if (!el || !el.tagName) return false;
  return el.isContentEditable || el.tagName === 'TEXTAREA' || el.tagName === 'SELECT'
    || (el.tagName === 'INPUT' && !['button', 'submit', 'checkbox', 'radio', 'reset', 'range', 'color'].includes(el.type));
}

document.addEventListener('keydown', (e) => {
  if (e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  if (e.key === '/' && !isTyping(e.target)) {
    const box = main.querySelector('[data-search]:not([disabled])');
    if (box) {
      e.preventDefault();
      box.focus();
      if (typeof box.select === 'function') box.select();
    }
  } else if (e.key === 'Escape') {
    const el = document.activeElement;
    if (el && el !== document.body && typeof el.blur === 'function') el.blur();
  }
});

// In-page links ("#/events", "#main"): change the hash directly, so a <base href> elsewhere
// than the page itself never turns them into a navigation away.
document.addEventListener('click', (e) => {
  if (e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
  const a = e.target.closest && e.target.closest('a[href^="#"]');
  if (!a) return;
  const href = a.getAttribute('href');
  e.preventDefault();
  if (href === '#main') {
    main.tabIndex = -1;
    main.focus();
    return;
  }
  if (location.hash !== href) location.hash = href;
});

window.addEventListener('hashchange', route);
start();
