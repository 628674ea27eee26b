// The dashboard in a real browser: Debian's Chromium driven by playwright-core (no browser
// download), axe-core for accessibility. Run by scripts/web-test.sh, which builds the binaries
// and installs the npm packages; it passes MICRO_BIN_DIR (micro, greeter-server, webchat),
// MICRO_WEB_NPM (where node_modules is) and CHROMIUM.
//
// One dashboard (`micro web` on loopback) and real greeter servers on the local registry
// under a fresh MICRO_HOME; a second `micro web` on 0.0.0.0 for the token wall.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { createRequire } from 'node:module';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

const npm = process.env.MICRO_WEB_NPM;
const bin = process.env.MICRO_BIN_DIR;
assert.ok(npm && bin, 'run through scripts/web-test.sh (MICRO_WEB_NPM, MICRO_BIN_DIR)');
const require = createRequire(path.join(npm, 'package.json'));
const { chromium } = require('playwright-core');
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
// The dashboard's CSP forbids inline scripts; the contexts bypass it only so axe can be
// injected (and so an escaping mistake would run, not be caught by the CSP).
// MICRO_WEB_SCREENSHOTS=docs/web refreshes the README's pictures; by default they go to a
// scratch directory, so a test run leaves the tree as it was.
const shots = process.env.MICRO_WEB_SCREENSHOTS || path.join(os.tmpdir(), 'micro-web-screenshots');
const full = process.env.MICRO_WEB_FULL === '1';

const home = fs.mkdtempSync(path.join(os.tmpdir(), 'micro-web-test-'));
const env = { ...process.env, MICRO_HOME: home, RUST_LOG: 'warn' };
delete env.MICRO_WEB_TOKEN;
const children = [];
let browser;
let dash; // http://127.0.0.1:PORT

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

function start(name, args = [], extra = {}) {
  const child = spawn(path.join(bin, name), args, { env: { ...env, ...extra }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.output = '';
  child.stdout.on('data', (d) => { child.output += d; });
  child.stderr.on('data', (d) => { child.output += d; });
  children.push(child);
  return child;
}

function stop(child) {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', resolve);
    child.kill('SIGTERM');
  });
}

async function until(what, check, ms = 30000) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    try {
      last = await check();
      if (last) return last;
    } catch (e) {
      last = e;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what}: not within ${ms} ms (last: ${last})`);
}

async function reachable(url) {
  return until(`${url} answers`, async () => (await fetch(url)).status < 500);
}

function micro(...args) {
  return execFileSync(path.join(bin, 'micro'), args, { env, encoding: 'utf8' });
}

/** No serious or critical axe violations on the page as it is now. */
async function accessible(page, where) {
  await page.addScriptTag({ content: axeSource });
  const result = await page.evaluate(async () => {
    // eslint-disable-next-line no-undef
    const r = await axe.run(document, { resultTypes: ['violations'] });
    return r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')).slice(0, 5) }));
  });
  const bad = result.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(bad, [], `${where}: ${JSON.stringify(bad, null, 1)}`);
}

async function shoot(page, name) {
  fs.mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: path.join(shots, `${name}.png`) });
}

const rowOf = (page, service) => page.locator(`[data-testid="service-row"][data-service="${service}"]`);

before(async () => {
  const port = await freePort();
  dash = `http://127.0.0.1:${port}`;
  start('micro', ['web', '--address', `127.0.0.1:${port}`]);
  await reachable(`${dash}/_/api/session`);
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  if (browser) await browser.close();
  await Promise.all(children.map(stop));
  fs.rmSync(home, { recursive: true, force: true });
});

test('the dashboard, end to end', async (t) => {
  const context = await browser.newContext({ bypassCSP: true, colorScheme: 'light', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const external = [];
  page.on('request', (r) => {
    const u = new URL(r.url());
    if (!['127.0.0.1', 'localhost'].includes(u.hostname) && u.protocol !== 'data:') external.push(r.url());
  });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));

  await t.test('two greeter nodes appear live on the services page', async () => {
    await page.goto(`${dash}/`);
    await page.locator('[data-testid="counts"]').waitFor();
    const loadedAt = await page.evaluate(() => performance.timeOrigin);
    start('greeter-server');
    start('greeter-server');
    await until('two greeter nodes listed', async () =>
      (await rowOf(page, 'greeter').locator('[data-testid="node-count"]').textContent({ timeout: 500 })).trim() === '2');
    // No reload happened: the page is the one first loaded.
    assert.equal(await page.evaluate(() => performance.timeOrigin), loadedAt);
    await until('health probed', async () =>
      /serving/i.test(await rowOf(page, 'greeter').locator('[data-testid="health"]').textContent({ timeout: 500 })));
    await shoot(page, 'services-light');
    await accessible(page, 'services');
  });

  await t.test('keyboard: / filters, arrows and Enter open a service', async () => {
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => document.activeElement?.dataset?.testid), 'filter');
    await page.keyboard.type('greet');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.waitForURL(/#\/service\/greeter$/);
  });

  await t.test('the greeter: nodes with health, endpoints with shapes', async () => {
    await until('two nodes shown', async () => (await page.locator('[data-testid="node-row"]').count()) === 2);
    const hello = page.locator('[data-testid="endpoint"][data-endpoint="Greeter.Hello"]');
    await hello.waitFor();
    assert.match(await hello.textContent(), /name/);
    const stream = page.locator('[data-testid="endpoint"][data-endpoint="Greeter.Stream"]');
    assert.match(await stream.textContent(), /server/i);
    await until('nodes serving', async () =>
      (await page.locator('[data-testid="node-row"]').allTextContents()).every((t) => /SERVING/.test(t)));
    await shoot(page, 'service-light');
    await accessible(page, 'service');
  });

  await t.test('call Greeter.Hello from the generated form', async () => {
    await page.locator('[data-testid="endpoint"][data-endpoint="Greeter.Hello"] [data-testid="call-link"]').click();
    await page.waitForURL(/#\/call\/greeter\/Greeter.Hello$/);
    await page.locator('[data-field="name"]').fill('John');
    await page.locator('[data-testid="send"]').click();
    await until('the reply', async () => /Hello John/.test(await page.locator('[data-testid="reply"]').textContent({ timeout: 500 })));
    assert.match(await page.locator('[data-testid="status"]').textContent(), /OK/);
    // The raw tab holds the same request.
    await page.locator('[data-testid="tab-raw"]').click();
    assert.deepEqual(JSON.parse(await page.locator('[data-testid="raw-json"]').inputValue()), { name: 'John' });
    await shoot(page, 'call-light');
    await accessible(page, 'call');
  });

  await t.test('invalid JSON in the raw tab is flagged before sending', async () => {
    let calls = 0;
    page.on('request', (r) => { if (r.url().endsWith('/api/call')) calls += 1; });
    await page.locator('[data-testid="raw-json"]').fill('{"name": ');
    await page.locator('[data-testid="send"]').click();
    await page.locator('[data-testid="json-error"]').waitFor();
    assert.equal(calls, 0);
  });

  await t.test('a reply with markup shows as text', async () => {
    const evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>';
    await page.locator('[data-testid="raw-json"]').fill(JSON.stringify({ name: evil }));
    await page.locator('[data-testid="send"]').click();
    await until('the reply', async () => (await page.locator('[data-testid="reply"]').textContent({ timeout: 500 })).includes('<script>'));
    assert.equal(await page.evaluate(() => window.__xss), undefined);
    assert.equal(await page.locator('#main script, #main img[src="x"]').count(), 0);
  });

  await t.test('Greeter.Stream shows messages as they arrive', async () => {
    await page.goto(`${dash}/#/call/greeter/Greeter.Stream`);
    await page.locator('[data-field="name"]').fill('Ann');
    await page.locator('[data-field="count"]').fill('5');
    await page.locator('[data-testid="send"]').click();
    await until('five messages', async () => (await page.locator('[data-testid="stream-messages"] [data-testid="stream-message"]').count()) === 5);
    assert.match(await page.locator('[data-testid="stream-messages"]').textContent(), /Hello Ann #5/);
  });

  await t.test('publish an event and see it in the live topic view', async () => {
    await page.goto(`${dash}/#/events`);
    await page.locator('[data-testid="watch-topic"]').fill('web.test');
    await page.locator('[data-testid="watch"]').click();
    // The watch subscribes through the broker; give it a moment to be registered.
    await page.locator('[data-testid="publish-topic"]').fill('web.test');
    await page.locator('[data-testid="publish-message"]').fill('{"hello":"world"}');
    await until('the message in the watch list', async () => {
      await page.locator('[data-testid="publish"]').click();
      await new Promise((r) => setTimeout(r, 300));
      return /world/.test(await page.locator('[data-testid="watch-messages"]').textContent({ timeout: 500 }));
    });
    await accessible(page, 'events');
  });

  await t.test('the terminal runs the read-only verbs', async () => {
    await page.goto(`${dash}/#/terminal`);
    const input = page.locator('[data-testid="terminal-input"]');
    await input.fill(`call greeter Greeter.Hello '{"name":"John"}'`);
    await input.press('Enter');
    await until('the reply in the terminal', async () => /Hello John/.test(await page.locator('[data-testid="terminal-output"]').textContent({ timeout: 500 })));
    await input.fill('services');
    await input.press('Enter');
    await until('the services in the terminal', async () => /greeter/.test(await page.locator('[data-testid="terminal-output"]').textContent({ timeout: 500 })));
    await accessible(page, 'terminal');
  });

  await t.test('registry and store pages', async () => {
    await page.goto(`${dash}/#/registry`);
    await until('greeter in the registry view', async () => /greeter/.test(await page.locator('#main').textContent({ timeout: 500 })));
    await accessible(page, 'registry');
    await page.goto(`${dash}/#/store`);
    await page.locator('#main h1').waitFor();
    await accessible(page, 'store');
  });

  await t.test('a recursive schema falls back to raw JSON; a service that vanishes mid-call shows the error', async () => {
    // A node that takes the connection, then goes away without answering.
    const vanishing = net.createServer((socket) => { setTimeout(() => socket.destroy(), 300); });
    await new Promise((r) => vanishing.listen(0, '127.0.0.1', r));
    const tree = {
      name: 'tree', version: '1',
      endpoints: [{ name: 'Tree.Grow', request: { name: 'Node', type: 'Node', values: [
        { name: 'label', type: 'string' },
        { name: 'children', type: 'repeated tree.Node' }] }, response: { name: 'Node', type: 'Node' }, metadata: {} }],
      nodes: [{ id: 'tree-1', address: `127.0.0.1:${vanishing.address().port}`, metadata: {} }],
    };
    micro('register', 'service', JSON.stringify(tree));
    await page.goto(`${dash}/#/call/tree/Tree.Grow`);
    await page.locator('[data-testid="form-fallback"]').waitFor();
    await page.locator('[data-testid="raw-json"]').fill('{"label":"root"}');
    await page.locator('[data-testid="send"]').click();
    await page.locator('[data-testid="error"]').waitFor();
    const shown = await page.locator('[data-testid="response"]').textContent();
    assert.match(shown, /5\d\d|unavailable|closed|reset/i, shown);
    micro('deregister', 'service', JSON.stringify(tree));
    vanishing.close();
  });

  await t.test('a node that stops leaves the list live', async () => {
    await page.goto(`${dash}/#/`);
    await until('two nodes', async () => (await rowOf(page, 'greeter').locator('[data-testid="node-count"]').textContent({ timeout: 500 })).trim() === '2');
    const greeter = children.find((c) => c.spawnargs[0].endsWith('greeter-server') && c.exitCode === null);
    await stop(greeter);
    await until('one node', async () => (await rowOf(page, 'greeter').locator('[data-testid="node-count"]').textContent({ timeout: 500 })).trim() === '1', 5000);
  });

  await t.test('readable at 360 px wide', async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    for (const where of ['#/', '#/service/greeter', '#/call/greeter/Greeter.Hello', '#/events', '#/terminal']) {
      await page.goto(`${dash}/${where}`);
      await page.locator('#main h1').waitFor();
      const wide = await page.evaluate(() => document.documentElement.scrollWidth);
      assert.ok(wide <= 360, `${where} is ${wide} px wide at 360`);
    }
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  await t.test('no request left the machine and no script failed', async () => {
    assert.deepEqual(external, []);
    assert.deepEqual(errors, []);
  });
  await context.close();
});

test('the page runs under its own Content-Security-Policy', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const blocked = [];
  page.on('console', (m) => { if (/Content Security Policy/i.test(m.text())) blocked.push(m.text()); });
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const rsp = await page.goto(`${dash}/`);
  assert.match(rsp.headers()['content-security-policy'], /script-src 'self'/);
  await rowOf(page, 'greeter').waitFor();
  await page.goto(`${dash}/#/call/greeter/Greeter.Hello`);
  await page.locator('[data-field="name"]').fill('CSP');
  await page.locator('[data-testid="send"]').click();
  await until('the reply', async () => /Hello CSP/.test(await page.locator('[data-testid="reply"]').textContent({ timeout: 500 })));
  assert.deepEqual(blocked, []);
  assert.deepEqual(errors, []);
  await context.close();
});

test('dark mode follows the system', async () => {
  const context = await browser.newContext({ bypassCSP: true, colorScheme: 'dark', viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  const background = async () => page.evaluate(() => {
    const [r, g, b] = getComputedStyle(document.body).backgroundColor.match(/\d+/g).map(Number);
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255;
  });
  await page.goto(`${dash}/`);
  await rowOf(page, 'greeter').waitFor();
  assert.ok((await background()) < 0.3, 'a dark background');
  await shoot(page, 'services-dark');
  await accessible(page, 'services (dark)');
  await page.goto(`${dash}/#/service/greeter`);
  await page.locator('[data-testid="node-row"]').first().waitFor();
  await shoot(page, 'service-dark');
  await accessible(page, 'service (dark)');
  await page.goto(`${dash}/#/call/greeter/Greeter.Hello`);
  await page.locator('[data-field="name"]').fill('John');
  await page.locator('[data-testid="send"]').click();
  await until('the reply', async () => /Hello John/.test(await page.locator('[data-testid="reply"]').textContent({ timeout: 500 })));
  await shoot(page, 'call-dark');
  await accessible(page, 'call (dark)');
  await context.close();
});

test('a web app written as a service, through the proxy with its websocket', async () => {
  start('webchat');
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await until('the chat registered', async () => (await fetch(`${dash}/chat/`)).status === 200);
  await page.goto(`${dash}/#/`);
  await page.locator('a[href="/chat/"]').waitFor();
  await page.goto(`${dash}/chat/`);
  await until('connected', async () => /^connected$/.test(await page.locator('#state').textContent()));
  assert.match(await page.locator('footer').textContent(), /\/chat/);
  await page.locator('#text').fill('hello <b>room</b>');
  await page.locator('#text').press('Enter');
  await until('the message back', async () => (await page.locator('#log li').allTextContents()).includes('hello <b>room</b>'));
  await context.close();
});

test('1,000 services: the services page renders them', async () => {
  const many = [];
  for (let i = 0; i < 1000; i++) {
    const name = `bulk-${String(i).padStart(4, '0')}`;
    many.push({ name, version: '1.0.0', endpoints: [{ name: 'Bulk.Get', metadata: {} }], nodes: [{ id: `${name}-1`, address: '127.0.0.1:1', metadata: {} }] });
  }
  execFileSync(path.join(bin, 'micro'), ['register', 'service'], { env, input: JSON.stringify(many) });
  // Measure the page, not the registry settling: wait until the dashboard has them all.
  await until('the dashboard sees 1,000 more services', async () =>
    (await (await fetch(`${dash}/_/api/services`)).json()).counts.services > 1000);
  const context = await browser.newContext({ bypassCSP: true, viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.goto(`${dash}/`);
  await page.waitForFunction(() => document.querySelectorAll('[data-testid="service-row"]').length >= 1000, null, { timeout: 30000 });
  const ms = await page.evaluate(() => performance.now());
  const fetched = await page.evaluate(() => {
    const e = performance.getEntriesByType('resource').find((r) => r.name.endsWith('/api/services'));
    return e ? Math.round(e.responseEnd) : -1;
  });
  console.log(`# 1,000 services: the services page rendered them ${Math.round(ms)} ms after navigation started (their list arrived at ${fetched} ms)`);
  assert.ok(ms < (full ? 1000 : 5000), `rendered in ${Math.round(ms)} ms`);
  const filter = page.locator('[data-testid="filter"]');
  await filter.fill('bulk-0999');
  await until('one row shown', async () => (await page.locator('[data-testid="service-row"]:visible').count()) === 1);
  await context.close();
});

test('the token wall on a non-loopback bind', async () => {
  const port = await freePort();
  const token = 'web-test-token-0123456789abcdef';
  start('micro', ['web', '--address', `0.0.0.0:${port}`], { MICRO_WEB_TOKEN: token });
  const url = `http://127.0.0.1:${port}`;
  await reachable(`${url}/_/api/session`);
  const context = await browser.newContext({ bypassCSP: true });
  const page = await context.newPage();
  await page.goto(`${url}/`);
  await page.locator('[data-testid="token-form"]').waitFor();
  assert.equal(await page.locator('[data-testid="service-row"]').count(), 0);
  await accessible(page, 'token wall');
  await page.locator('[data-testid="token-input"]').fill('wrong-token');
  await page.locator('[data-testid="token-submit"]').click();
  await until('the refusal', async () => /not the dashboard's token/.test(await page.locator('[data-testid="token-error"]').textContent({ timeout: 500 })));
  await page.locator('[data-testid="token-input"]').fill(token);
  await page.locator('[data-testid="token-submit"]').click();
  await rowOf(page, 'greeter').waitFor();
  // The token is in no URL the browser visited.
  assert.ok(!page.url().includes(token));
  const cookies = await context.cookies();
  assert.ok(cookies.some((c) => c.name === 'micro_web_session' && c.httpOnly && c.value !== token));
  await context.close();
});
