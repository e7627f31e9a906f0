// Hostile text in a message, a reply and a title stays inert: no script
// runs, no handler fires, no javascript: link survives, nothing leaves the
// page as HTML.
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

const PAYLOAD = '<script>window.__pwned=1</script><img src=x onerror="window.__pwned=2">'
  + '[click](javascript:window.__pwned=3) <a href="javascript:window.__pwned=4">a</a>'
  + '<svg onload="window.__pwned=5"></svg><iframe src="javascript:window.__pwned=6"></iframe>';

test('a hostile title and sidebar entry stay text', async () => {
  const page = await newPage(browser, server);
  const csrf = await signUpAndIn(page, uniqueEmail('xss'));
  const conv = await (await page.request.post('/api/v1/conversations', { data: { title: PAYLOAD.slice(0, 190) }, headers: { 'X-CSRF-Token': csrf } })).json();
  await page.goto(`/?c=${conv.id}`);
  await page.waitForSelector('#conv-items li');
  assert.equal(await page.textContent('#chat-title'), PAYLOAD.slice(0, 190));
  assert.equal(await page.locator('#conv-items img, #conv-items script, #chat-title *').count(), 0);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await page.context().close();
});

test('a hostile message and a hostile reply are inert', async () => {
  const page = await newPage(browser, server);
  await signUpAndIn(page, uniqueEmail('xss'));
  await upstream.scenario({ text: `Sure. ${PAYLOAD} [ok](https://example.com/)`, rate: 200 });
  await page.goto('/');
  await page.fill('#composer-input', PAYLOAD);
  await page.keyboard.press('Enter');
  await page.waitForSelector('.msg-bot:not(.streaming) .content:has-text("Sure")', { timeout: 20000 });
  await page.waitForTimeout(500);
  assert.equal(await page.textContent('.msg-user .content'), PAYLOAD);
  const bot = page.locator('.msg-bot .content');
  assert.equal(await bot.locator('script, img, svg:not(.icon), iframe, [onerror], [onload]').count(), 0);
  for (const href of await bot.locator('a').evaluateAll((as) => as.map((a) => a.getAttribute('href'))))
    assert.doesNotMatch(String(href), /^javascript:/i);
  const ok = bot.locator('a[href="https://example.com/"]');
  assert.equal(await ok.getAttribute('target'), '_blank');
  assert.equal(await ok.getAttribute('rel'), 'noopener noreferrer');
  // Clicking what is left does nothing either.
  for (const a of await bot.locator('a:not([href^="https"])').all()) await a.click().catch(() => {});
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await page.context().close();
});

test('markdown rendering: sanitised, code highlighted with a copy button', async () => {
  const page = await newPage(browser, server);
  await signUpAndIn(page, uniqueEmail('md'));
  await page.goto('/');
  // Render through the page's own pipeline, without any endpoint.
  const result = await page.evaluate(async (payload) => {
    const m = await import('/static/js/markdown.js');
    const div = document.createElement('div');
    document.body.append(div);
    m.renderMarkdown(div, `${payload}\n\n\`\`\`python\nprint("hi")\n\`\`\`\n\n| a | b |\n|---|---|\n| 1 | 2 |`);
    await new Promise((r) => setTimeout(r, 500));
    return {
      dangerous: div.querySelectorAll('script, img, svg:not(.icon), iframe, [onerror], [onload], a[href^="javascript"]').length,
      copy: div.querySelectorAll('.code-copy').length,
      highlighted: div.querySelectorAll('code.hljs span').length,
      table: div.querySelectorAll('table td').length,
    };
  }, PAYLOAD);
  assert.equal(result.dangerous, 0);
  assert.equal(result.copy, 1);
  assert.ok(result.highlighted > 0);
  assert.equal(result.table, 2);
  assert.equal(await page.evaluate(() => window.__pwned), undefined);
  await page.context().close();
});
