// Sign-in pages: register → sign in → sign out with field errors along the
// way, the redirect back to where the user was going, no open redirect,
// and /admin refused to non-admins on the server.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, signUpAndIn, startServer, uniqueEmail } from './harness.mjs';

let server;
let browser;
before(async () => { server = await startServer(); browser = await launchBrowser(); });
after(async () => { await browser?.close(); await server?.stop(); });

test('register, sign in, sign out, with field errors', async () => {
  const page = await newPage(browser, server);
  const email = uniqueEmail('reg');
  await page.goto('/register');
  // Client-side checks first: nothing typed.
  await page.click('#submit');
  assert.match(await page.textContent('#email-error'), /email/i);
  // The server's own field error: a password too short for it.
  await page.fill('#email', email);
  await page.fill('#password', 'short');
  await page.fill('#confirm', 'short');
  await page.click('#submit');
  assert.match(await page.textContent('#password-error'), /8 to 128/);
  await page.fill('#password', 'a good long password');
  await page.fill('#confirm', 'a different one');
  await page.click('#submit');
  assert.match(await page.textContent('#confirm-error'), /differ/);
  await page.fill('#confirm', 'a good long password');
  await page.click('#submit');
  await page.waitForURL('**/login');
  assert.match(await page.textContent('#notice'), /Account created/);
  assert.equal(await page.inputValue('#email'), email);
  // Registering the same address again is refused with a field error.
  const again = await newPage(browser, server);
  await again.goto('/register');
  await again.fill('#email', email.toUpperCase());
  await again.fill('#password', 'a good long password');
  await again.fill('#confirm', 'a good long password');
  await again.click('#submit');
  await again.waitForSelector('#email-error:not(:empty), #form-error:not([hidden])');
  await again.context().close();
  // A wrong password: one generic message.
  await page.fill('#password', 'not the password');
  await page.click('#submit');
  await page.waitForSelector('#form-error:not([hidden])');
  assert.match(await page.textContent('#form-error'), /do not match/);
  await page.fill('#password', 'a good long password');
  await page.click('#submit');
  await page.waitForURL((u) => u.pathname === '/');
  await page.waitForSelector('#composer-input');
  assert.equal(await page.textContent('.who span'), email);
  await page.click('#logout');
  await page.waitForURL('**/login');
  await page.goto('/');
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('signed-out visits go to /login and come back after; no open redirect', async () => {
  const page = await newPage(browser, server);
  const email = uniqueEmail('next');
  await page.request.post('/api/v1/auth/register', { data: { email, password: 'a good long password' } });
  await page.goto('/settings');
  assert.equal(new URL(page.url()).pathname, '/login');
  assert.equal(new URL(page.url()).searchParams.get('next'), '/settings');
  await page.fill('#email', email);
  await page.fill('#password', 'a good long password');
  await page.click('#submit');
  await page.waitForURL('**/settings');
  await page.context().close();

  const evil = await newPage(browser, server);
  const r = await evil.request.get('/login?next=//evil.example/x', { maxRedirects: 0 });
  assert.equal(r.status(), 200);
  assert.ok((await r.text()).includes('data-next="/"'));
  await evil.goto('/login?next=https://evil.example/');
  await evil.fill('#email', email);
  await evil.fill('#password', 'a good long password');
  await evil.click('#submit');
  await evil.waitForURL((u) => u.pathname === '/');
  assert.equal(new URL(evil.url()).host, new URL(server.url).host);
  await evil.context().close();
});

test('throttling shows the wait', async () => {
  const page = await newPage(browser, server);
  const email = uniqueEmail('throttle');
  await page.request.post('/api/v1/auth/register', { data: { email, password: 'a good long password' } });
  await page.goto('/login');
  await page.fill('#email', email);
  for (let i = 0; i < 8; i++) {
    await page.fill('#password', `wrong password ${i}`);
    if (await page.isDisabled('#submit')) break;
    await page.click('#submit');
    await page.waitForSelector('#form-error:not([hidden])');
  }
  assert.match(await page.textContent('#form-error'), /Try again in \d+ seconds?/);
  assert.ok(await page.isDisabled('#submit'));
  await page.context().close();
});

test('a non-admin cannot reach /admin; an admin can', async () => {
  const page = await newPage(browser, server);
  await signUpAndIn(page, uniqueEmail('plain'));
  const r = await page.request.get('/admin', { maxRedirects: 0 });
  assert.equal(r.status(), 403);
  assert.match(r.headers()['content-type'], /text\/html/);
  await page.goto('/admin');
  assert.match(await page.textContent('h1'), /Administrators only/);
  assert.equal(await page.locator('#users-table').count(), 0);
  // The link is hidden too.
  await page.goto('/');
  assert.equal(await page.isVisible('a[href="/admin"]'), false);
  await page.context().close();

  const admin = await newPage(browser, server);
  const email = uniqueEmail('admin');
  server.createUser(email, 'an admin password', true);
  await admin.request.post('/api/v1/auth/login', { data: { email, password: 'an admin password' } });
  await admin.goto('/admin');
  await admin.waitForSelector('#users-body tr');
  assert.ok(await admin.isVisible('a[href="/admin"]'));
  await admin.context().close();
});

test('signed out: /admin redirects; unknown paths are an HTML 404', async () => {
  const page = await newPage(browser, server);
  const r = await page.request.get('/admin', { maxRedirects: 0 });
  assert.equal(r.status(), 303);
  assert.equal(r.headers().location, '/login?next=/admin');
  const nf = await page.request.get('/no/such/page');
  assert.equal(nf.status(), 404);
  assert.match(nf.headers()['content-type'], /text\/html/);
  const api = await page.request.get('/api/v1/no-such');
  assert.match(api.headers()['content-type'], /problem\+json/);
  await page.context().close();
});
