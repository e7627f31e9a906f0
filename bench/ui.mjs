// ui.mjs — issue 5's browser benchmarks against the real server (a fresh
// instance, the built-in bot) in Debian's Chromium through playwright-core,
// reusing tests/browser/harness.mjs. Prints Markdown for bench/RESULTS.md.
//
//   node bench/ui.mjs [--loads 10] [--rounds 3] [--scrolls 3] [--messages 2000]
//                     [--step 400] [--trace] [--json FILE]
//
// 1. Bytes of a first visit to `/` signed in, cold cache (a new browser
//    context, so a new HTTP cache and new connections): the sum of CDP
//    Network.loadingFinished encodedDataLength (bytes on the wire after TLS:
//    headers + body as sent) of every request the page makes until it is
//    interactive and the network has been quiet for 500 ms; the same for a
//    first visit straight into the 2,000-message conversation.
// 2. Navigation → interactive chat pane, median of --loads cold loads per
//    round. "Interactive" is the first moment (performance.now(), whose
//    origin is the navigation start) at which all of these hold: chat.js has
//    run to its end (the composer textarea is enabled and has the focus,
//    which the module's last statement gives it, so every handler is
//    attached), the first page of the conversation list is rendered
//    (#conv-items has its items), and the model picker is filled. A
//    MutationObserver + focusin listener installed before any page script
//    (addInitScript) takes the time; Chromium's DCL/load/FCP are shown too.
//    The same mark for a navigation in a running browser (--loads visits in
//    one context after a first one: HTTP cache and connection warm, as when a
//    signed-in user comes back to the app) and for the first arrival after
//    signing in (a new context opens /login cold, the form is sent, and the
//    navigation to / that follows is timed), and the browser's floor: a
//    cold context loading a 295-byte SVG, and one loading a 2-line text
//    file (/static/robots.txt: a font and text layout).
// 3. Frame timings while the 2,000-message conversation scrolls from its
//    newest message to its first: mouse.wheel steps of --step px over the
//    message pane until the top is reached and nothing older is left;
//    requestAnimationFrame deltas and PerformanceObserver 'longtask'
//    entries over the scroll only. --trace repeats one scroll under CDP
//    tracing and names what the long tasks spent their time in.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { launchBrowser, newPage, ROOT, signUpAndIn, startServer, uniqueEmail } from '../tests/browser/harness.mjs';

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : def;
};
const LOADS = Number(opt('loads', 10));
const ROUNDS = Number(opt('rounds', 3));
const SCROLLS = Number(opt('scrolls', 3));
const MESSAGES = Number(opt('messages', 2000));
const STEP = Number(opt('step', 400));
const TRACE = args.includes('--trace');
const JSON_OUT = opt('json', '');
const TRACE_CATEGORIES = ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'toplevel', 'v8.execute',
  'blink.user_timing', 'disabled-by-default-devtools.timeline.frame', 'v8', 'loading', 'netlog', 'blink.resource'];

const log = (...a) => console.error('ui-bench:', ...a);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[(s.length - 1) >> 1] : NaN; };
const pct = (xs, p) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.ceil(p / 100 * s.length) - 1)] : NaN; };
const kb = (n) => `${(n / 1024).toFixed(1)} KB`;
const ms = (n) => (n == null || Number.isNaN(n) ? '–' : `${n.toFixed(1)} ms`);

// Runs in the page before any of its scripts: the readiness marks and the
// long-task log (both read with page.evaluate).
function pageProbe() {
  const marks = {};
  const longtasks = [];
  const frames = [];              // long animation frames: what a long task did
  window.__bench = { marks, longtasks, loafs: frames };
  const mark = (k) => { if (!(k in marks)) { marks[k] = performance.now(); performance.mark(`bench-${k}`); } };
  const check = () => {
    const ta = document.getElementById('composer-input');
    if (ta && !ta.disabled && document.activeElement === ta) mark('composer');
    const items = document.getElementById('conv-items');
    const state = document.getElementById('conv-state');
    if (items && (items.children.length || (state && !state.hidden && state.textContent))) mark('convs');
    const model = document.getElementById('model');
    if (model && model.options.length) mark('models');
    if ('composer' in marks && 'convs' in marks && 'models' in marks) mark('interactive');
    const bots = document.querySelectorAll('#msg-list .msg-bot .content');
    if (bots.length && [...bots].every((c) => c.firstElementChild)) mark('messages');
  };
  const mo = new MutationObserver(check);
  mo.observe(document, { subtree: true, childList: true, attributes: true });
  document.addEventListener('focusin', check, true);
  window.__bench.stop = () => { mo.disconnect(); document.removeEventListener('focusin', check, true); };
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const a = (e.attribution && e.attribution[0]) || {};
      longtasks.push({ start: e.startTime, duration: e.duration, container: a.containerType || '' });
    }
  }).observe({ type: 'longtask', buffered: true });
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      frames.push({
        start: e.startTime, duration: e.duration, renderStart: e.renderStart, styleAndLayoutStart: e.styleAndLayoutStart,
        scripts: e.scripts.map((x) => ({ fn: x.sourceFunctionName || x.invoker, url: (x.sourceURL || '').replace(/^.*\/static\//, '').replace(/\?.*$/, ''),
          duration: x.duration, forced: x.forcedStyleAndLayoutDuration })),
      });
    }
  }).observe({ type: 'long-animation-frame', buffered: true });
}

// What a long animation frame spent its time on, in one line: its scripts
// (with the forced style and layout inside them), then style and layout,
// then the rest of rendering (paint, commit).
function describeFrame(f) {
  const parts = f.scripts.map((x) => `${x.fn || '?'} (${x.url}) ${x.duration.toFixed(0)} ms${x.forced ? `, forced layout ${x.forced.toFixed(0)}` : ''}`);
  const end = f.start + f.duration;
  if (f.styleAndLayoutStart) parts.push(`style+layout ${(end - f.styleAndLayoutStart).toFixed(0)} ms`);
  if (f.renderStart && f.styleAndLayoutStart) parts.push(`before it (rAF, observers) ${(f.styleAndLayoutStart - f.renderStart).toFixed(0)} ms`);
  return `${f.duration.toFixed(0)} ms frame at ${(f.start / 1000).toFixed(1)} s: ${parts.join('; ') || 'no script'}`;
}

// --- setup: a server, an account, its conversations ---------------------------

const server = await startServer({ env: { CHATBOT_LOG_LEVEL: 'warning' } });
const browser = await launchBrowser();
let cookies;
let bigId;
let benchEmail;
let seedInfo = '';
try {
  const boot = await newPage(browser, server);
  benchEmail = uniqueEmail('bench');
  const csrf = await signUpAndIn(boot, benchEmail);
  cookies = await boot.context().cookies();
  const headers = { 'X-CSRF-Token': csrf };
  const me = await (await boot.request.get('/api/v1/auth/me')).json();
  // A realistic sidebar: 30 conversations besides the long one.
  for (let i = 0; i < 30; i++)
    await boot.request.post('/api/v1/conversations', { data: { title: `Conversation ${i + 1}: notes on topic ${i * 7 % 13}` }, headers });
  const big = await (await boot.request.post('/api/v1/conversations', { data: { title: `${MESSAGES} messages` }, headers })).json();
  bigId = big.id;
  await boot.context().close();
  const seed = spawnSync('/usr/bin/python3', [path.join(ROOT, 'bench', 'ui_seed.py'),
    path.join(server.instance, 'chatbot.db'), String(bigId), String(me.user.id), String(MESSAGES)], { encoding: 'utf8' });
  if (seed.status !== 0) throw new Error(`ui_seed.py: ${seed.stderr}`);
  seedInfo = seed.stdout.trim().split('\n').join(', ');
  log(`seeded conversation ${bigId}: ${seedInfo}`);

  const results = { machine: {}, bytes: [], loads: [], warm: [], signIn: [], floor: [], open: [], scrolls: [], trace: null };

  // A signed-in page in a new context (cold HTTP cache, no connection yet).
  async function freshPage(opts) {
    const page = await newPage(browser, server, opts);
    await page.context().addCookies(cookies);
    await page.addInitScript(pageProbe);
    return page;
  }

  // --- 1. bytes -------------------------------------------------------------------

  async function visitBytes(url, until) {
    const page = await freshPage();
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    const reqs = new Map();
    let last = Date.now();
    cdp.on('Network.requestWillBeSent', (e) => {
      last = Date.now();
      reqs.set(e.requestId, { url: e.request.url, type: e.type, sent: e.timestamp, bytes: 0, body: 0, status: 0 });
    });
    cdp.on('Network.responseReceived', (e) => {
      const r = reqs.get(e.requestId);
      if (!r) return;
      r.status = e.response.status;
      r.mime = e.response.mimeType;
      r.encoding = e.response.headers['content-encoding'] || e.response.headers['Content-Encoding'] || '';
      r.cache = e.response.headers['cache-control'] || e.response.headers['Cache-Control'] || '';
      const t = e.response.timing;
      if (t) r.timing = { connect: t.connectStart >= 0 ? t.connectEnd - t.connectStart : 0, tls: t.sslStart >= 0 ? t.sslEnd - t.sslStart : 0, wait: t.receiveHeadersStart - t.sendEnd, headers: t.requestTime * 1000 + t.receiveHeadersEnd };
    });
    cdp.on('Network.dataReceived', (e) => { const r = reqs.get(e.requestId); if (r) r.body += e.dataLength; });
    cdp.on('Network.loadingFinished', (e) => { last = Date.now(); const r = reqs.get(e.requestId); if (r) { r.bytes = e.encodedDataLength; r.done = true; r.finished = e.timestamp; } });
    cdp.on('Network.loadingFailed', (e) => { last = Date.now(); const r = reqs.get(e.requestId); if (r) { r.failed = e.errorText; r.done = true; } });
    await page.goto(url, { waitUntil: 'commit' });
    await page.waitForFunction((k) => window.__bench && window.__bench.marks[k] != null, until, { polling: 20, timeout: 60000 });
    while (Date.now() - last < 500 || [...reqs.values()].some((r) => !r.done)) await page.waitForTimeout(100);
    const marks = await page.evaluate(() => window.__bench.marks);
    const t0 = [...reqs.values()].find((r) => r.type === 'Document').sent;
    const rows = [...reqs.values()].map((r) => ({
      path: r.url.replace(server.url, '').replace(/\?v=[^&]*$/, '?v=…'), type: r.type, status: r.status, bytes: r.bytes,
      body: r.body, encoding: r.encoding, cache: r.cache, at: (r.sent - t0) * 1000,
      before: (r.sent - t0) * 1000 <= marks[until], failed: r.failed || '',
      end: r.finished ? (r.finished - t0) * 1000 : null, connect: r.timing ? r.timing.connect : 0, tls: r.timing ? r.timing.tls : 0,
      wait: r.timing ? r.timing.wait : 0, headersAt: r.timing ? r.timing.headers - t0 * 1000 : null,
    }));
    await page.context().close();
    return { url, until, marks, rows, total: rows.reduce((s, r) => s + r.bytes, 0), beforeTotal: rows.filter((r) => r.before).reduce((s, r) => s + r.bytes, 0) };
  }

  for (let i = 0; i < 3; i++) {
    results.bytes.push({ name: 'first visit to /', ...(await visitBytes('/', 'interactive')) });
    results.bytes.push({ name: `first visit to /?c=… (${MESSAGES} messages)`, ...(await visitBytes(`/?c=${bigId}`, 'messages')) });
  }
  log('bytes done');

  // --- 2. navigation → interactive ------------------------------------------------------

  const readLoad = () => {
    const n = performance.getEntriesByType('navigation')[0];
    const fcp = performance.getEntriesByName('first-contentful-paint')[0];
    return { marks: window.__bench.marks, ttfb: n.responseStart, dcl: n.domContentLoadedEventEnd, load: n.loadEventEnd, fcp: fcp ? fcp.startTime : null, longtasks: window.__bench.longtasks };
  };
  const untilMark = async (page, mark = 'interactive') => {
    await page.waitForFunction((k) => window.__bench && window.__bench.marks[k] != null, mark, { polling: 50, timeout: 60000 });
    await page.waitForLoadState('load');
  };
  async function coldLoad(url, until) {
    const page = await freshPage();
    await page.goto(url, { waitUntil: 'commit' });
    await untilMark(page, until);
    const r = await page.evaluate(readLoad);
    await page.context().close();
    return r;
  }
  // The browser's own floor: a cold context loading a 295-byte SVG (no
  // HTML, script or style), navigation → load event.
  // With text (a 2-line text/plain document: a font, text layout, no
  // style): what any page with words costs cold here.
  async function floorLoad(url = '/static/favicon.svg') {
    const page = await newPage(browser, server);
    await page.goto(url, { waitUntil: 'load' });
    const r = await page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd);
    await page.context().close();
    return r;
  }
  // n navigations to / in one context that has shown / once already.
  async function warmLoads(n) {
    const page = await freshPage();
    await page.goto('/', { waitUntil: 'commit' });
    await untilMark(page);
    const out = [];
    for (let i = 0; i < n; i++) {
      await page.goto(`/?visit=${i}`, { waitUntil: 'commit' });   // a new URL: a navigation, not a reload
      await untilMark(page);
      out.push(await page.evaluate(readLoad));
    }
    await page.context().close();
    return out;
  }
  // Signing in from a new context: /login cold, then the navigation to /.
  async function signInLoad() {
    const page = await newPage(browser, server);
    await page.addInitScript(pageProbe);
    await page.goto('/login', { waitUntil: 'load' });
    const login = await page.evaluate(() => performance.getEntriesByType('navigation')[0].loadEventEnd);
    await page.fill('#email', benchEmail);
    await page.fill('#password', 'correct horse battery');
    await Promise.all([page.waitForURL((u) => u.pathname === '/', { timeout: 60000 }), page.click('#submit')]);
    await untilMark(page);
    const r = await page.evaluate(readLoad);
    await page.context().close();
    return { ...r, login };
  }

  // One more cold load of / under CDP tracing: what the page's main thread
  // did between the navigation and the interactive mark.
  if (TRACE) {
    const page = await freshPage();
    await browser.startTracing(page, { categories: TRACE_CATEGORIES });
    await page.goto('/', { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__bench && window.__bench.marks.interactive != null, null, { polling: 50, timeout: 60000 });
    await page.waitForTimeout(200);
    const readyAt = await page.evaluate(() => window.__bench.marks.interactive);
    const buf = await browser.stopTracing();
    await page.context().close();
    writeFileSync(path.join(ROOT, 'test-output', 'ui-load-trace.json'), buf);
    results.loadTrace = loadBreakdown(JSON.parse(buf.toString()), readyAt);
    log('load trace written to test-output/ui-load-trace.json');
  }

  for (let round = 0; round < ROUNDS; round++) {
    const loads = [];
    for (let i = 0; i < LOADS; i++) loads.push(await coldLoad('/', 'interactive'));
    results.loads.push(loads);
    results.warm.push(await warmLoads(LOADS));
    const signIns = [];
    for (let i = 0; i < LOADS; i++) signIns.push(await signInLoad());
    results.signIn.push(signIns);
    const floor = [];
    for (let i = 0; i < LOADS; i++) floor.push(await floorLoad());
    (results.floor ||= []).push(floor);
    const textFloor = [];
    for (let i = 0; i < LOADS; i++) textFloor.push(await floorLoad('/static/robots.txt'));
    (results.textFloor ||= []).push(textFloor);
    const opens = [];
    for (let i = 0; i < LOADS; i++) opens.push(await coldLoad(`/?c=${bigId}`, 'messages'));
    results.open.push(opens);
    (results.loadavg ||= []).push((await import('node:os')).loadavg()[0]);
    const iMed = (ls) => median(ls.map((l) => l.marks.interactive)).toFixed(1);
    log(`round ${round + 1}: interactive median ${iMed(loads)} ms cold, ${iMed(results.warm[round])} ms warm, ${iMed(signIns)} ms after signing in, ` +
      `open ${MESSAGES}-message conversation median ${median(opens.map((l) => l.marks.messages)).toFixed(1)} ms`);
  }

  // --- 3. scrolling the long conversation ----------------------------------------------------

  async function scrollRun(trace) {
    const page = await freshPage();
    await page.goto(`/?c=${bigId}`, { waitUntil: 'commit' });
    await page.waitForFunction(() => window.__bench && window.__bench.marks.messages != null, null, { polling: 50, timeout: 60000 });
    await page.waitForLoadState('networkidle');
    await page.waitForTimeout(500);
    let cdp = null;
    const box = await page.locator('#messages').boundingBox();
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    if (trace) {
      await browser.startTracing(page, { categories: TRACE_CATEGORIES });
      cdp = await page.context().newCDPSession(page);
      await cdp.send('Profiler.enable');
      await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
      await cdp.send('Profiler.start');
    }
    const start = await page.evaluate(() => {
      window.__bench.stop();
      const b = window.__bench;
      b.frames = [];
      b.scrollStart = performance.now();
      let last = 0;
      const f = (t) => { if (last) b.frames.push(t - last); last = t; if (!b.stopFrames) requestAnimationFrame(f); };
      requestAnimationFrame(f);
      return b.scrollStart;
    });
    const t = Date.now();
    let steps = 0;
    let state;
    for (;;) {
      await page.mouse.wheel(0, -STEP);
      await page.waitForTimeout(30);
      steps++;
      if (steps % 10 === 0) {
        state = await page.evaluate(() => ({
          top: document.getElementById('messages').scrollTop,
          done: document.getElementById('load-older').hidden,
          dom: document.getElementById('msg-list').children.length,
        }));
        if (state.top === 0 && state.done) break;
        if (Date.now() - t > 300000) { log('scroll: gave up after 300 s', state); break; }
      }
    }
    const r = await page.evaluate(() => {
      const b = window.__bench;
      b.stopFrames = true;
      return { frames: b.frames, end: performance.now(), longtasks: b.longtasks.filter((l) => l.start >= b.scrollStart), openLongtasks: b.longtasks.filter((l) => l.start < b.scrollStart),
        longFrames: b.loafs.filter((f) => f.start >= b.scrollStart && f.duration > 50) };
    });
    let traceBuf = null;
    let profile = null;
    if (trace) {
      profile = (await cdp.send('Profiler.stop')).profile;
      traceBuf = await browser.stopTracing();
    }
    await page.context().close();
    return { ...r, start, seconds: (r.end - start) / 1000, steps, dom: state.dom, traceBuf, profile };
  }
  for (let i = 0; i < SCROLLS; i++) {
    const s = await scrollRun(false);
    delete s.traceBuf;
    results.scrolls.push(s);
    log(`scroll ${i + 1}: ${s.steps} steps in ${s.seconds.toFixed(1)} s, ${s.frames.length} frames, p95 ${pct(s.frames, 95).toFixed(1)} ms, ` +
      `max ${Math.max(...s.frames).toFixed(1)} ms, ${s.longtasks.length} long tasks, longest ${Math.max(0, ...s.longtasks.map((l) => l.duration)).toFixed(0)} ms`);
    for (const f of s.longFrames) log(`  ${describeFrame(f)}`);
  }
  if (TRACE) {
    const s = await scrollRun(true);
    results.trace = { longtasks: s.longtasks, analysis: analyseTrace(JSON.parse(s.traceBuf.toString())), profile: profileTop(s.profile) };
    writeFileSync(path.join(ROOT, 'test-output', 'ui-scroll-trace.json'), s.traceBuf);
    log('trace written to test-output/ui-scroll-trace.json');
  }

  results.machine = {
    nproc: (await import('node:os')).availableParallelism?.() ?? (await import('node:os')).cpus().length,
    cpu: (await import('node:os')).cpus()[0].model, date: new Date().toISOString().slice(0, 10),
    chromium: browser.version(), seed: seedInfo,
  };
  if (JSON_OUT) writeFileSync(JSON_OUT, JSON.stringify(results, null, 1));
  report(results);
} finally {
  await browser.close();
  await server.stop();
}

// --- the trace: what the long tasks on the page's main thread did ----------------------------

// The busiest CrRendererMain thread's complete events, sorted.
function mainThread(events) {
  const names = new Map();
  for (const e of events) if (e.ph === 'M' && e.name === 'thread_name') names.set(`${e.pid}:${e.tid}`, e.args.name);
  const byThread = new Map([...names].filter(([, n]) => n === 'CrRendererMain').map(([k]) => [k, []]));
  for (const e of events) {
    const k = `${e.pid}:${e.tid}`;
    if (byThread.has(k) && e.ph === 'X' && e.dur != null) byThread.get(k).push(e);
  }
  const main = [...byThread].sort((a, b) => b[1].length - a[1].length)[0][1];
  return main.sort((a, b) => a.ts - b.ts || b.dur - a.dur);
}

function label(e) {
  const d = (e.args && e.args.data) || {};
  if (e.name === 'FunctionCall') return `FunctionCall ${(d.url || '').replace(/^.*\/static\//, '').replace(/\?.*$/, '')}:${d.functionName || '(anonymous)'}`;
  if (e.name === 'EventDispatch') return `EventDispatch ${d.type}`;
  if (e.name === 'EvaluateScript' || e.name === 'v8.compileModule' || e.name === 'v8.evaluateModule' || e.name === 'v8.compile')
    return `${e.name} ${(d.url || (e.args && e.args.fileName) || '').replace(/^.*\/static\//, '').replace(/\?.*$/, '')}`;
  return e.name;
}

// Self time per label of the events nested in [from, to) on one thread.
function selfTimes(main, from, to) {
  const inner = main.filter((e) => e.ts >= from && e.ts + e.dur <= to);
  const self = new Map();
  const total = new Map();
  const stack = [{ end: Infinity, child: 0 }];
  const close = (upTo) => {
    while (stack.length > 1 && stack[stack.length - 1].end <= upTo) {
      const f = stack.pop();
      const l = label(f.e);
      self.set(l, (self.get(l) || 0) + f.e.dur - f.child);
      total.set(l, (total.get(l) || 0) + f.e.dur);
      stack[stack.length - 1].child += f.e.dur;
    }
  };
  for (const e of inner) {
    close(e.ts);
    stack.push({ end: e.ts + e.dur, e, child: 0 });
  }
  close(Infinity);
  return { self, total, busy: stack[0].child };
}

// The interactive mark's trace time minus its performance.now() value is the
// navigation start (the trace has several navigationStart events).
function loadBreakdown(trace, readyAt) {
  const events = trace.traceEvents || trace;
  const markEv = events.find((x) => x.name === 'bench-interactive');
  if (!markEv) return null;
  const main = mainThread(events.filter((e) => e.pid === markEv.pid || e.ph === 'M'));
  const ready = markEv.ts;
  const nav = ready - readyAt * 1000;
  const { self, busy } = selfTimes(main, nav, ready);
  // Busy time per 50 ms slice shows when the thread waited (network) and when it worked.
  const slices = [];
  for (let t = nav; t < ready; t += 50000) slices.push(selfTimes(main, t, Math.min(ready, t + 50000)).busy / 1000);
  return {
    window: (ready - nav) / 1000, busy: busy / 1000,
    top: [...self].sort((a, b) => b[1] - a[1]).slice(0, 12).map(([n, us]) => [n, us / 1000]),
    slices,
  };
}

// Self time per JS function of a CDP CPU profile (Profiler.stop).
function profileTop(profile) {
  if (!profile) return [];
  const dt = new Map(profile.nodes.map((n) => [n.id, 0]));
  for (let i = 0; i < profile.samples.length; i++) dt.set(profile.samples[i], dt.get(profile.samples[i]) + (profile.timeDeltas[i] || 0));
  const by = new Map();
  for (const n of profile.nodes) {
    const f = n.callFrame;
    const k = `${f.functionName || '(anonymous)'} ${(f.url || '').replace(/^.*\/static\//, '').replace(/\?.*$/, '')}${f.url ? `:${f.lineNumber + 1}` : ''}`;
    by.set(k, (by.get(k) || 0) + dt.get(n.id));
  }
  const total = [...by.values()].reduce((a, b) => a + b, 0);
  return [...by].filter(([k]) => !/^\((idle|program|garbage collector)\)/.test(k)).sort((a, b) => b[1] - a[1]).slice(0, 15)
    .map(([k, us]) => [k, us / 1000, total / 1000]);
}

function analyseTrace(trace) {
  const main = mainThread(trace.traceEvents || trace);
  const tasks = main.filter((e) => (e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask') && e.dur > 50000);
  const out = [];
  for (const task of tasks.filter((t, i, a) => !a.slice(0, i).some((p) => p.ts <= t.ts && t.ts < p.ts + p.dur))) {
    const { self, total } = selfTimes(main.filter((e) => e !== task), task.ts, task.ts + task.dur);
    const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([n, us]) => [n, us / 1000]);
    const calls = [...total].filter(([n]) => /^(FunctionCall|EventDispatch|FireAnimationFrame|TimerFire|RunMicrotasks)/.test(n))
      .sort((a, b) => b[1] - a[1]).slice(0, 3).map(([n, us]) => [n, us / 1000]);
    out.push({ ms: task.dur / 1000, self: top, entry: calls });
  }
  return out.sort((a, b) => b.ms - a.ms).slice(0, 10);
}

// --- Markdown -------------------------------------------------------------------

function report(res) {
  const m = res.machine;
  const p = (s) => console.log(s);
  p(`Machine: ${m.nproc} cores (${m.cpu}), ${m.date}, Chromium ${m.chromium} headless (--disable-gpu), loopback HTTPS.`);
  p(`Seeded: ${m.seed}.`);
  p('');
  p('#### 1. Bytes of a first visit (cold cache), on the wire (headers + body, CDP encodedDataLength)');
  p('');
  p('| visit | requests | bytes before interactive | bytes until the network is quiet | runs |');
  p('| --- | ---: | ---: | ---: | --- |');
  for (const name of [...new Set(res.bytes.map((b) => b.name))]) {
    const runs = res.bytes.filter((b) => b.name === name);
    p(`| ${name} | ${runs[0].rows.length} | ${kb(median(runs.map((r) => r.beforeTotal)))} | ${kb(median(runs.map((r) => r.total)))} | ${runs.map((r) => kb(r.total)).join(', ')} |`);
  }
  for (const name of [...new Set(res.bytes.map((b) => b.name))]) {
    const run = res.bytes.find((b) => b.name === name);
    p('');
    p(`Files of the ${name} (first run), largest first:`);
    p('');
    p('| file | type | on the wire | body | content-encoding | requested | new connection + TLS | server wait | finished | before interactive |');
    p('| --- | --- | ---: | ---: | --- | ---: | ---: | ---: | ---: | --- |');
    for (const r of [...run.rows].sort((a, b) => b.bytes - a.bytes))
      p(`| \`${r.path}\` | ${r.type} | ${r.bytes} | ${r.body} | ${r.encoding || 'none'} | ${r.at.toFixed(0)} ms | ${r.connect ? `${r.connect.toFixed(0)} ms (TLS ${r.tls.toFixed(0)})` : '–'} | ${r.wait.toFixed(0)} ms | ${r.end == null ? '–' : `${r.end.toFixed(0)} ms`} | ${r.before ? 'yes' : 'no'}${r.failed ? ` (failed: ${r.failed})` : ''} |`);
  }
  p('');
  p(`#### 2. Navigation start → interactive chat pane (${res.loads.length ? res.loads[0].length : 0} cold loads per round, new context each)`);
  p('');
  p('| round | interactive: median | min | max | composer ready | conversation list | DCL | load | FCP | load average (1 min) after the round |');
  p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  res.loads.forEach((loads, i) => {
    const col = (f) => median(loads.map(f));
    const iv = loads.map((l) => l.marks.interactive);
    p(`| ${i + 1} | ${ms(median(iv))} | ${ms(Math.min(...iv))} | ${ms(Math.max(...iv))} | ${ms(col((l) => l.marks.composer))} | ${ms(col((l) => l.marks.convs))} | ${ms(col((l) => l.dcl))} | ${ms(col((l) => l.load))} | ${ms(col((l) => l.fcp))} | ${res.loadavg ? res.loadavg[i].toFixed(1) : '–'} |`);
  });
  for (const [what, rows] of [['in a running browser (one context, cache and connection warm; a new URL each time)', res.warm],
    ['right after signing in (new context: /login cold, the form sent, then the navigation to / timed)', res.signIn]]) {
    if (!rows || !rows.length) continue;
    p('');
    p(`Navigation start → interactive chat pane ${what}, ${rows[0].length} per round:`);
    p('');
    p('| round | interactive: median | min | max | composer ready | conversation list | DCL | load | FCP |');
    p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    rows.forEach((loads, i) => {
      const col = (f) => median(loads.map(f));
      const iv = loads.map((l) => l.marks.interactive);
      p(`| ${i + 1} | ${ms(median(iv))} | ${ms(Math.min(...iv))} | ${ms(Math.max(...iv))} | ${ms(col((l) => l.marks.composer))} | ${ms(col((l) => l.marks.convs))} | ${ms(col((l) => l.dcl))} | ${ms(col((l) => l.load))} | ${ms(col((l) => l.fcp))} |`);
    });
  }
  if (res.floor && res.floor.length) {
    p('');
    p(`The browser's floor for a cold load on this machine (new context, \`/static/favicon.svg\`: 295 bytes, no script or style; navigation → load event), median per round: ${res.floor.map((f) => ms(median(f))).join(', ')}.`);
  }
  if (res.textFloor && res.textFloor.length) {
    p('');
    p(`The same with text (new context, \`/static/robots.txt\`: 2 lines of text/plain, a font and text layout, no style or script), median per round: ${res.textFloor.map((f) => ms(median(f))).join(', ')}.`);
  }
  if (res.signIn && res.signIn.length && res.signIn[0][0].login != null) {
    p('');
    p(`A small page of ours cold (new context, \`/login\`: its HTML, the stylesheet, \`theme.js\` and \`auth.js\` with the modules it imports, no data; navigation → load event), median per round: ${res.signIn.map((rows) => ms(median(rows.map((l) => l.login)))).join(', ')}.`);
  }
  p('');
  p(`Opening the ${MESSAGES}-message conversation cold (\`/?c=ID\`: navigation → every reply of the newest ${'40'} rendered as Markdown):`);
  p('');
  p('| round | median | min | max | long tasks during the open (median count, longest) |');
  p('| --- | ---: | ---: | ---: | --- |');
  res.open.forEach((opens, i) => {
    const v = opens.map((l) => l.marks.messages);
    const lt = opens.map((l) => l.longtasks.filter((t) => t.start <= l.marks.messages + 50));
    p(`| ${i + 1} | ${ms(median(v))} | ${ms(Math.min(...v))} | ${ms(Math.max(...v))} | ${median(lt.map((x) => x.length))}, ${ms(Math.max(0, ...lt.flat().map((t) => t.duration)))} |`);
  });
  p('');
  p(`#### 3. Scrolling the ${MESSAGES}-message conversation from its newest message to its first (wheel steps of ${STEP} px)`);
  p('');
  p('| run | steps | seconds | frames | frame p50 | p95 | max | frames > 50 ms | long tasks > 50 ms | longest | messages in the DOM at the end |');
  p('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
  res.scrolls.forEach((s, i) => {
    p(`| ${i + 1} | ${s.steps} | ${s.seconds.toFixed(1)} | ${s.frames.length} | ${ms(pct(s.frames, 50))} | ${ms(pct(s.frames, 95))} | ${ms(Math.max(...s.frames))} | ${s.frames.filter((f) => f > 50).length} | ${s.longtasks.length} | ${ms(Math.max(0, ...s.longtasks.map((l) => l.duration)))} | ${s.dom} |`);
  });
  const longFrames = res.scrolls.flatMap((s, i) => (s.longFrames || []).map((f) => `run ${i + 1}: ${describeFrame(f)}`));
  if (longFrames.length) {
    p('');
    p('Animation frames over 50 ms during those scrolls (Long Animation Frames API: scripts with the forced layout inside them, then style and layout):');
    p('');
    for (const f of longFrames) p(`- ${f}`);
  }
  if (res.loadTrace) {
    const t = res.loadTrace;
    p('');
    p(`Traced cold load of / (CDP tracing, slower than the loads above): navigation → interactive ${ms(t.window)}, the page's main thread busy ${ms(t.busy)} of it. Self time by activity:`);
    p('');
    p('| activity | self time |');
    p('| --- | ---: |');
    for (const [n, v] of t.top) p(`| ${n} | ${ms(v)} |`);
    p('');
    p(`Main-thread busy ms per 50 ms slice from the navigation: ${t.slices.map((x) => x.toFixed(0)).join(' ')}`);
  }
  if (res.trace) {
    p('');
    p(`Traced scroll (CDP tracing, slower than the runs above): ${res.trace.longtasks.length} long tasks; the longest, with where their time went (self time) and what ran them:`);
    p('');
    p('| task | self time by activity | entry points (total) |');
    p('| ---: | --- | --- |');
    for (const t of res.trace.analysis)
      p(`| ${ms(t.ms)} | ${t.self.map(([n, v]) => `${n} ${v.toFixed(1)}`).join('; ')} | ${t.entry.map(([n, v]) => `${n} ${v.toFixed(1)}`).join('; ')} |`);
    p('');
    p(`JavaScript self time over the traced scroll (CDP CPU profile, ${res.trace.profile.length ? ms(res.trace.profile[0][2]) : '–'} sampled):`);
    p('');
    p('| function (file:line) | self time |');
    p('| --- | ---: |');
    for (const [n, v] of res.trace.profile) p(`| \`${n}\` | ${ms(v)} |`);
  }
}
