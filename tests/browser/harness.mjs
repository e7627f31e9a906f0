// harness.mjs — what every browser test needs: the real server binary
// (build/chatbot, or $CHATBOT_BUILD/chatbot) on a free loopback port with a
// fresh instance directory, the fake OpenAI-compatible upstream when a test
// wants one, and Debian's Chromium driven by playwright-core (never a
// downloaded browser) with the server's self-signed certificate accepted.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const BUILD = process.env.CHATBOT_BUILD || path.join(ROOT, 'build');
export const SCREENSHOTS = path.join(ROOT, 'test-output', 'screenshots');
const CHROMIUM = process.env.CHATBOT_CHROMIUM || '/usr/bin/chromium';

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

function waitForLine(proc, pattern, what, timeoutMs = 20000) {
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${out}`)), timeoutMs);
    const onData = (d) => {
      out += d.toString();
      const m = pattern.exec(out);
      if (m) { clearTimeout(timer); resolve(m); }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`${what} exited (${code}):\n${out}`)); });
  });
}

// The fake upstream (tests/fake_upstream.py). scenario(s) posts to /_control/scenario.
export async function startUpstream() {
  const dir = mkdtempSync(path.join(tmpdir(), 'cb-upstream-'));
  const portFile = path.join(dir, 'port');
  const proc = spawn('/usr/bin/python3', [path.join(ROOT, 'tests', 'fake_upstream.py'), '--port', '0', '--port-file', portFile],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  const m = await waitForLine(proc, /listening on (\d+)/, 'fake upstream');
  const port = Number(m[1]);
  const base = `http://127.0.0.1:${port}`;
  return {
    port, url: `${base}/v1`,
    async scenario(s) {
      const r = await fetch(`${base}/_control/scenario`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(s) });
      if (!r.ok) throw new Error(`scenario: ${r.status} ${await r.text()}`);
    },
    async stop() { proc.kill('SIGTERM'); rmSync(dir, { recursive: true, force: true }); },
  };
}

// A chatbot server on a fresh instance. opts.env adds environment variables,
// opts.config is written to instance/config.
export async function startServer({ env = {}, config = '' } = {}) {
  const binary = path.join(BUILD, 'chatbot');
  if (!existsSync(binary)) throw new Error(`${binary} is missing: build first (scripts/test.sh does)`);
  const instance = mkdtempSync(path.join(tmpdir(), 'cb-browser-'));
  writeFileSync(path.join(instance, 'config'),
    'registrations_per_hour = 100000\nlogin_free_failures_address = 10000\n' + config);
  const port = await freePort();
  const childEnv = { ...process.env, ...env };
  delete childEnv.CHATBOT_INSTANCE;
  if (!env.CHATBOT_LLM_URL) delete childEnv.CHATBOT_LLM_URL;
  const proc = spawn(binary, ['--instance', instance, 'serve', '--bind', '127.0.0.1', '--port', String(port)],
    { cwd: ROOT, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  const log = [];
  proc.stdout.on('data', (d) => log.push(d.toString()));
  proc.stderr.on('data', (d) => log.push(d.toString()));
  await waitForLine(proc, /chatbot: serving/, 'chatbot');
  return {
    url: `https://127.0.0.1:${port}`, instance, log,
    // `chatbot users create EMAIL [--admin]` with the password on stdin.
    createUser(email, password, admin = false) {
      const r = spawnSync(binary, ['--instance', instance, 'users', 'create', email, '--password-stdin', ...(admin ? ['--admin'] : [])],
        { input: password + '\n', cwd: ROOT, env: childEnv, encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`users create: ${r.stderr}`);
    },
    async stop() {
      if (proc.exitCode === null) {
        proc.kill('SIGTERM');
        await new Promise((r) => proc.once('exit', r));
      }
      rmSync(instance, { recursive: true, force: true });
    },
  };
}

// playwright-core's launch() gives Chromium a new empty profile of its own
// (a fresh --user-data-dir, deleted on close): it refuses the flag itself.
export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

export async function newPage(browser, server, { width = 1280, height = 800, colorScheme = 'light' } = {}) {
  const context = await browser.newContext({
    ignoreHTTPSErrors: true, baseURL: server.url, viewport: { width, height }, colorScheme,
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  // Failed requests the page expected (a 401 at a wrong password) are not errors of the page.
  page.on('console', (m) => {
    if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) page.errors.push(m.text());
  });
  return page;
}

// Registers through the API of the page's context and signs in (cookie).
export async function signUpAndIn(page, email, password = 'correct horse battery') {
  const reg = await page.request.post('/api/v1/auth/register', { data: { email, password } });
  if (reg.status() !== 201) throw new Error(`register: ${reg.status()} ${await reg.text()}`);
  return signIn(page, email, password);
}

export async function signIn(page, email, password = 'correct horse battery') {
  const r = await page.request.post('/api/v1/auth/login', { data: { email, password } });
  if (r.status() !== 200) throw new Error(`login: ${r.status()} ${await r.text()}`);
  return (await r.json()).csrf_token;
}

export async function screenshot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOTS, `${name}.png`) });
}

let counter = 0;
export function uniqueEmail(prefix = 'user') {
  return `${prefix}${Date.now().toString(36)}${counter++}@example.com`;
}

export function readJson(file) { return JSON.parse(readFileSync(file, 'utf8')); }
