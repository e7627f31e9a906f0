// What makes the pages fast (issue 5), checked in the browser against the
// real server: every module and its preload are one versioned URL fetched
// once (the import map, allowed by the page's CSP hash), text assets come
// gzipped, a revisit asks the server for no asset at all, the chat page's
// first data comes in the page (no request), and a long conversation keeps a
// bounded window of messages in the DOM while the reader scrolls to its
// first message without the view jumping.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { launchBrowser, newPage, ROOT, signUpAndIn, startServer, uniqueEmail } from './harness.mjs';

let server;
let browser;
before(async () => {
  server = await startServer();
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); });

// The server's access lines ("GET /static/js/api.js 200 …"): what it was asked.
const served = () => server.log.join('').split('\n').filter((l) => / (GET|HEAD) \//.test(l));
const hits = (lines, p) => lines.filter((l) => l.includes(` ${p} `) || l.includes(` ${p}?`)).length;

test('modules: one versioned URL each, fetched once, gzipped, cached on a revisit', async () => {
  const page = await newPage(browser, server);
  await signUpAndIn(page, uniqueEmail('assets'));
  const responses = [];
  page.on('response', (r) => responses.push(r));
  const before = served().length;
  await page.goto('/');
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'composer-input');
  await page.waitForLoadState('networkidle');
  const first = served().slice(before);

  const urls = responses.map((r) => new URL(r.url()));
  const statics = urls.filter((u) => u.pathname.startsWith('/static/'));
  for (const u of statics) assert.match(u.search, /^\?v=[0-9a-f]+$/, `${u.pathname} is asked for without a version`);
  const paths = statics.map((u) => u.pathname);
  assert.deepEqual(paths.filter((p, i) => paths.indexOf(p) !== i), [], 'a static file was fetched twice');
  for (const p of ['/static/js/chat.js', '/static/js/api.js', '/static/js/ui.js', '/static/css/app.css', '/static/icons.svg'])
    assert.equal(hits(first, p), 1, `${p}: ${hits(first, p)} requests`);

  // The first page of conversations and the model list come in the page: no request for them.
  assert.equal(hits(first, '/api/v1/conversations'), 0);
  assert.equal(hits(first, '/api/v1/models'), 0);

  // (theme.js, under 1 KiB, has no gzip sibling: not worth it.)
  for (const r of responses.filter((x) => /\/static\/(js\/(chat|api|ui)|css\/app)\./.test(x.url()))) {
    const h = await r.allHeaders();
    assert.equal(h['content-encoding'], 'gzip', `${r.url()} is not gzipped`);
    assert.match(h['cache-control'], /immutable/);
    assert.equal(h.vary, 'Accept-Encoding');
  }

  // The import map is the page's only inline script, allowed by its hash.
  const csp = (await (await page.request.get('/')).headers())['content-security-policy'];
  assert.match(csp, /script-src 'self' 'sha256-[A-Za-z0-9+/]+=*'/);
  assert.doesNotMatch(csp, /unsafe-inline/);

  // Markdown and its vendor modules: the import map's versioned URLs too.
  await page.evaluate(() => import('/static/js/markdown.js'));
  await page.waitForLoadState('networkidle');
  const lazy = responses.map((r) => new URL(r.url())).filter((u) => /\/(markdown|marked|purify)\.js$/.test(u.pathname));
  assert.equal(lazy.length, 3, lazy.map(String).join(' '));
  for (const u of lazy) assert.match(u.search, /^\?v=/);

  // A revisit: the assets come from the browser's cache, the server sees only the page and the API.
  const mark = served().length;
  await page.goto('/');
  await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'composer-input');
  await page.waitForLoadState('networkidle');
  const again = served().slice(mark);
  // (Chromium's favicon loader fetches the icon on its own, outside the page's cache.)
  assert.deepEqual(again.filter((l) => l.includes(' /static/') && !l.includes('/static/favicon.svg')), [], 'a revisit asked for static files');
  assert.deepEqual(page.errors, []);
});

test('a 600-message conversation: a bounded DOM window, lazy Markdown, a steady view while scrolling up', async () => {
  const page = await newPage(browser, server);
  const csrf = await signUpAndIn(page, uniqueEmail('long'));
  const me = await (await page.request.get('/api/v1/auth/me')).json();
  const conv = await (await page.request.post('/api/v1/conversations', { data: { title: 'long' }, headers: { 'X-CSRF-Token': csrf } })).json();
  const seed = spawnSync('/usr/bin/python3', [path.join(ROOT, 'bench', 'ui_seed.py'),
    path.join(server.instance, 'chatbot.db'), String(conv.id), String(me.user.id), '600'], { encoding: 'utf8' });
  assert.equal(seed.status, 0, seed.stderr);

  await page.goto(`/?c=${conv.id}`);
  await page.waitForSelector('#msg-list .msg-bot .content:not(.md-pending) > *');
  // The newest reply is rendered as Markdown; the pane sits at the bottom.
  const start = await page.evaluate(() => {
    const m = document.getElementById('messages');
    const bots = [...document.querySelectorAll('#msg-list .msg-bot .content')];
    return { atBottom: m.scrollHeight - m.scrollTop - m.clientHeight < 80, lastRendered: !bots.at(-1).classList.contains('md-pending'), dom: document.getElementById('msg-list').children.length };
  });
  assert.ok(start.atBottom && start.lastRendered, JSON.stringify(start));
  assert.ok(start.dom <= 160, `the open put ${start.dom} messages in the DOM`);

  // Scroll up in wheel-sized steps; after each step a message in view must
  // stay where it was (nothing added or rendered above may move it), and the
  // DOM stays a window.
  const result = await page.evaluate(async () => {
    const m = document.getElementById('messages');
    const list = document.getElementById('msg-list');
    const frame = () => new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    let maxDom = 0;
    let worstJump = 0;
    const jumps = [];
    for (let step = 0; step < 4000; step++) {
      const top = m.getBoundingClientRect().top;
      const anchor = [...list.children].find((n) => n.getBoundingClientRect().top >= top);
      const y = anchor ? anchor.getBoundingClientRect().top : 0;
      const was = m.scrollTop;
      m.scrollTop -= 300;
      const scrolled = was - m.scrollTop;       // less than 300 at the top
      for (let i = 0; i < 3; i++) await frame();
      if (anchor && anchor.isConnected) {
        const j = Math.abs(anchor.getBoundingClientRect().top - (y + scrolled));
        if (j > 2) jumps.push([step, j, m.scrollTop, scrolled, document.getElementById('load-older').hidden, list.children.length]);
        worstJump = Math.max(worstJump, j);
      }
      maxDom = Math.max(maxDom, list.children.length);
      if (m.scrollTop === 0 && document.getElementById('load-older').hidden) break;
    }
    const first = list.firstElementChild;
    return {
      maxDom, worstJump, jumps, dom: list.children.length, top: m.scrollTop,
      firstText: first.querySelector('.content').textContent.slice(0, 40),
      pending: list.querySelectorAll('.md-pending').length,
      rendered: list.querySelectorAll('.msg-bot .content:not(.md-pending)').length,
    };
  });
  assert.equal(result.top, 0);
  assert.ok(result.maxDom <= 160, `up to ${result.maxDom} messages in the DOM`);
  assert.ok(result.worstJump <= 2, `the view jumped by ${result.worstJump} px: ${JSON.stringify(result.jumps)}`);
  // The first message of the conversation is at the top of the window.
  const firstMsg = await (await page.request.get(`/api/v1/conversations/${conv.id}/messages?limit=1`)).json();
  assert.equal(result.firstText, firstMsg.items[0].content.slice(0, 40));
  assert.ok(result.rendered > 0, 'no reply near the view was rendered as Markdown');

  // Back to the bottom: the trimmed newest messages come back.
  await page.evaluate(async () => {
    const m = document.getElementById('messages');
    for (let i = 0; i < 2000 && m.scrollHeight - m.scrollTop - m.clientHeight > 2; i++) {
      m.scrollTop += 2000;
      await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
    }
  });
  const lastMsg = await (await page.request.get(`/api/v1/conversations/${conv.id}/messages?limit=1&reverse=true`)).json();
  const lastId = await page.evaluate(() => document.getElementById('msg-list').lastElementChild.dataset.id);
  assert.equal(Number(lastId), lastMsg.items[0].id);
  assert.deepEqual(page.errors, []);
});
