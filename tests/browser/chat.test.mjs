// The chat flow of issue 5 against the real server and the fake upstream:
// register → sign in → new chat → send → the reply streams in (several
// renders seen) → stop mid-reply (partial text kept) → regenerate → rename
// → search finds the message → export → delete → sign out. Then the
// built-in bot answering from the user guide with no LLM configured.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, startServer, startUpstream, uniqueEmail } from './harness.mjs';

let upstream;
let server;
let builtin;
let browser;
before(async () => {
  upstream = await startUpstream();
  server = await startServer({ env: { CHATBOT_LLM_URL: upstream.url, CHATBOT_LLM_MODEL: 'fake-small' } });
  builtin = await startServer();
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); await builtin?.stop(); await upstream?.stop(); });

const words = (n, w = 'token') => Array.from({ length: n }, (_, i) => `${w}${i}`).join(' ');

test('the full chat flow with a streaming LLM', async () => {
  const page = await newPage(browser, server);
  const email = uniqueEmail('flow');
  await page.goto('/register');
  await page.fill('#email', email);
  await page.fill('#password', 'a good long password');
  await page.fill('#confirm', 'a good long password');
  await page.click('#submit');
  await page.waitForURL('**/login');
  await page.fill('#password', 'a good long password');
  await page.click('#submit');
  await page.waitForURL((u) => u.pathname === '/');
  await page.waitForSelector('#empty:not([hidden])');

  // Streaming: count the distinct renders of the reply while tokens arrive.
  await upstream.scenario({ text: words(20, 'alpha'), rate: 20 });
  await page.evaluate(() => {
    window.__renders = new Set();
    new MutationObserver(() => {
      const c = document.querySelector('.msg-bot.streaming .content');
      if (c && c.textContent) window.__renders.add(c.textContent);
    }).observe(document.getElementById('msg-list'), { subtree: true, childList: true, characterData: true });
  });
  await page.fill('#composer-input', 'Tell me about the quokka');
  await page.keyboard.press('Enter');
  await page.waitForURL(/\?c=\d+/);
  await page.waitForSelector('.msg-bot:not(.streaming) .content:has-text("alpha19")', { timeout: 20000 });
  const renders = await page.evaluate(() => window.__renders.size);
  assert.ok(renders >= 3, `only ${renders} renders of the streaming reply`);
  assert.equal(await page.textContent('.msg-user .content'), 'Tell me about the quokka');

  // Stop mid-reply: the partial text stays, marked stopped.
  await upstream.scenario({ text: words(200, 'beta'), rate: 10 });
  await page.fill('#composer-input', 'Now a long answer please');
  await page.click('#send');
  await page.waitForSelector('.msg-bot.streaming .content:has-text("beta2")');
  await page.click('#stop');
  await page.waitForSelector('.msg-bot:last-child .msg-note:has-text("Stopped")', { timeout: 10000 });
  const partial = await page.textContent('.msg-bot:last-child .content');
  assert.match(partial, /beta2/);
  assert.doesNotMatch(partial, /beta199/);

  // Regenerate replaces the last reply.
  await upstream.scenario({ text: words(5, 'gamma'), rate: 50 });
  await page.click('.msg-bot:last-child .regenerate');
  await page.waitForSelector('.msg-bot:last-child:not(.streaming) .content:has-text("gamma4")', { timeout: 20000 });
  assert.equal(await page.locator('.msg-bot').count(), 2);

  // Rename inline.
  const item = page.locator('#conv-items li.current');
  await item.hover();
  await item.locator('button[aria-label^="Rename"]').click();
  await page.fill('.rename-input', 'Quokka facts');
  await page.keyboard.press('Enter');
  await page.waitForSelector('#conv-items li.current .conv-title:has-text("Quokka facts")');
  assert.equal(await page.textContent('#chat-title'), 'Quokka facts');

  // Search finds the message and jumps to it.
  await page.click('#new-chat');
  await page.fill('#search', 'quokka');
  await page.waitForSelector('.result');
  await page.click('.result');
  await page.waitForSelector('.msg.flash');
  assert.match(await page.textContent('.msg.flash .content'), /quokka/i);

  // Export: both downloads.
  await page.click('#export-btn');
  const [md] = await Promise.all([page.waitForEvent('download'), page.click('#export-md')]);
  assert.match(md.suggestedFilename(), /\.md$/);
  await page.click('#export-btn');
  const [json] = await Promise.all([page.waitForEvent('download'), page.click('#export-json')]);
  assert.match(json.suggestedFilename(), /\.json$/);

  // Delete with confirmation.
  const current = page.locator('#conv-items li.current');
  await current.hover();
  await current.locator('button[aria-label^="Delete"]').click();
  await page.click('#confirm-ok');
  await page.waitForSelector('#empty:not([hidden])');
  assert.equal(await page.locator('#conv-items li').count(), 0);

  await page.click('#logout');
  await page.waitForURL('**/login');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('the built-in bot answers from the user guide', async () => {
  const p2 = await newPage(browser, builtin);
  const email = uniqueEmail('kb');
  await p2.request.post('/api/v1/auth/register', { data: { email, password: 'a good long password' } });
  await p2.request.post('/api/v1/auth/login', { data: { email, password: 'a good long password' } });
  await p2.goto('/');
  await p2.click('.suggestion:has-text("change my password")');
  await p2.waitForSelector('.msg-bot:not(.streaming) .content', { timeout: 20000 });
  assert.match(await p2.textContent('.msg-bot .content'), /password/i);
  assert.deepEqual(p2.errors, []);
  await p2.context().close();
});
