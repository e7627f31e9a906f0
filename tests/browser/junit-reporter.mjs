// junit-reporter.mjs — a node:test reporter writing JUnit XML, for
// scripts/summarize.py. Node 18 (Debian 12) has no built-in junit reporter
// (it came in 20.13), so the browser tests bring this one everywhere.
// Usage: node --test --test-reporter=./tests/browser/junit-reporter.mjs
//        --test-reporter-destination=test-output/junit/browser.xml …
const esc = (s) => String(s).replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' }[c]))
  // XML 1.0 cannot carry most control characters, even escaped.
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '');

export default async function* junit(source) {
  const cases = [];
  for await (const event of source) {
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const d = event.data;
    if (d.details && d.details.type === 'suite') continue;
    const file = d.file ? d.file.replace(/^.*\/tests\/browser\//, '') : 'browser';
    const time = ((d.details && d.details.duration_ms) || 0) / 1000;
    let body = '';
    if (d.skip !== undefined && d.skip !== false) body = '<skipped/>';
    else if (d.todo !== undefined && d.todo !== false) body = '<skipped message="todo"/>';
    else if (event.type === 'test:fail') {
      const err = d.details && d.details.error;
      const cause = (err && (err.cause || err)) || {};
      const message = cause.message || String(cause);
      body = `<failure message="${esc(message.split('\n')[0])}">${esc(cause.stack || message)}</failure>`;
    }
    cases.push(`  <testcase classname="browser.${esc(file)}" name="${esc(d.name)}" time="${time.toFixed(3)}">${body}</testcase>`);
  }
  yield `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites>\n<testsuite name="browser" tests="${cases.length}">\n${cases.join('\n')}\n</testsuite>\n</testsuites>\n`;
}
