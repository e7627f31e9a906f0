// Keyboard: Enter sends, Shift+Enter adds a line, Esc stops, Ctrl+K focuses
// search, Ctrl+Shift+O starts a new chat.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { launchBrowser, newPage, signUpAndIn, startServer, startUpstream, uniqueEmail } from './harness.mjs';

let upstream;
let server;
let browser;
before(async () => {
  upstream = await startUpstream();
  server = await startServer({ env: { CHATBOT_LLM_URL: upstream.url, CHATBOT_LLM_MODEL: 'fake-small' } });
  browser = await launchBrowser();
});
after(async () => { await browser?.close(); await server?.stop(); await upstream?.stop(); });

test('Ctrl+K, Ctrl+Shift+O and Shift+Enter without the API', async () => {
  const page = await newPage(browser, server);
  await signUpAndIn(page, uniqueEmail('keys'));
  await page.goto('/');
  await page.waitForSelector('#composer-input:focus');
  await page.keyboard.press('Control+k');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'search');
  await page.click('#composer-input');
  await page.keyboard.type('line one');
  await page.keyboard.press('Shift+Enter');
  await page.keyboard.type('line two');
  assert.equal(await page.inputValue('#composer-input'), 'line one\nline two');
  await page.keyboard.press('Control+Shift+O');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'composer-input');
  assert.equal(new URL(page.url()).pathname + new URL(page.url()).search, '/');
  assert.deepEqual(page.errors, []);
  await page.context().close();
});

test('Enter sends, Esc stops', async () => {
  const page = await newPage(browser, server);
  await signUpAndIn(page, uniqueEmail('keys'));
  await upstream.scenario({ text: Array.from({ length: 300 }, (_, i) => `w${i}`).join(' '), rate: 10 });
  await page.goto('/');
  await page.fill('#composer-input', 'hello');
  await page.keyboard.press('Enter');
  await page.waitForSelector('.msg-user');
  await page.waitForSelector('.msg-bot.streaming .content:has-text("w1")', { timeout: 15000 });
  assert.equal(await page.inputValue('#composer-input'), '');
  await page.keyboard.press('Escape');
  await page.waitForSelector('.msg-bot .msg-note:has-text("Stopped")', { timeout: 10000 });
  assert.ok(await page.isHidden('#stop'));
  await page.context().close();
});
