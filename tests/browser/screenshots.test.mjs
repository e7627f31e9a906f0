// Screenshots of every page at 1280×800 and 390×844, light and dark, into
// test-output/screenshots/ (look at them: they are part of the review).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, screenshot, signIn, startServer, uniqueEmail } from './harness.mjs';

let server;
let browser;
const admin = uniqueEmail('shots');
const sizes = { desktop: [1280, 800], phone: [390, 844] };

before(async () => {
  server = await startServer();
  browser = await launchBrowser();
  server.createUser(admin, 'screenshot password', true);
});
after(async () => { await browser?.close(); await server?.stop(); });

let seeded = null;

// The same conversations for every run of the page set (signed in each time).
async function seed(page) {
  const csrf = await signIn(page, admin, 'screenshot password');
  if (seeded) return seeded;
  const headers = { 'X-CSRF-Token': csrf };
  const conv = await (await page.request.post('/api/v1/conversations', { data: { title: 'Reversing a list in Python' }, headers })).json();
  await page.request.post('/api/v1/conversations', { data: { title: 'Trip ideas for the weekend' }, headers });
  const pinned = await (await page.request.post('/api/v1/conversations', { data: { title: 'Project notes' }, headers })).json();
  await page.request.patch(`/api/v1/conversations/${pinned.id}`, { data: { pinned: true }, headers });
  const sent = await page.request.post(`/api/v1/conversations/${conv.id}/messages`, {
    data: { content: 'How do I reverse a list in Python?', stream: false }, headers,
  });
  await page.request.post('/api/v1/tokens', { data: { name: 'laptop script', expires_in_days: 30 }, headers });
  seeded = { conv, messagesWork: sent.status() === 201 };
  return seeded;
}

for (const scheme of ['light', 'dark']) {
  for (const [size, [width, height]] of Object.entries(sizes)) {
    test(`every page, ${size}, ${scheme}`, async () => {
      const page = await newPage(browser, server, { width, height, colorScheme: scheme });
      const shot = (name) => screenshot(page, `${name}-${size}-${scheme}`);
      await page.goto('/login');
      await shot('login');
      await page.goto('/register');
      await page.fill('#email', 'not-an-address');
      await page.fill('#password', 'short');
      await page.click('#submit');
      await shot('register-errors');
      const { conv, messagesWork } = await seed(page);
      await page.goto('/');
      await page.waitForSelector('#conv-items li', { state: 'attached' });
      await shot('chat-empty');
      if (size === 'phone') {
        await page.click('#open-sidebar');
        await page.waitForTimeout(300);
        await shot('chat-drawer');
        await page.click('#close-sidebar');
      }
      if (messagesWork) {
        await page.goto(`/?c=${conv.id}`);
        await page.waitForSelector('.msg-bot .content');
        await page.waitForTimeout(300);
        await shot('chat-conversation');
      }
      await page.goto('/settings');
      await page.waitForSelector('#tokens-body tr');
      await shot('settings');
      await page.goto('/admin');
      await page.waitForSelector('#users-body tr');
      await shot('admin');
      await page.goto('/no-such-page');
      await shot('not-found');
      assert.deepEqual(page.errors, []);
      await page.context().close();
    });
  }
}
