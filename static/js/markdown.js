// markdown.js — a bot's or user's Markdown to safe DOM: marked renders,
// DOMPurify sanitises the HTML (scripts, event handlers, javascript: URLs,
// styles, images and forms removed), links open in a new tab without an
// opener or referrer, code blocks get a header with their language and a
// copy button, and are highlighted once highlight.js (loaded on the first
// code block, not before) is there.
import { marked } from '../vendor/marked.js';
import DOMPurify from '../vendor/purify.js';
import { copyText, flashCopied, h, icon } from './ui.js';

marked.setOptions({ gfm: true, breaks: false });

const PURIFY = {
  FORBID_TAGS: ['style', 'img', 'picture', 'video', 'audio', 'source', 'form', 'input', 'button',
    'textarea', 'select', 'iframe', 'object', 'embed', 'svg', 'math', 'link', 'meta', 'base'],
  FORBID_ATTR: ['style', 'class', 'id', 'srcset'],
  ALLOWED_URI_REGEXP: /^(?:https?:|mailto:|#)/i,
  RETURN_DOM_FRAGMENT: true,
};

let hljs = null;
let hljsLoading = null;
const waiting = new Set();

function loadHighlighter() {
  if (!hljsLoading) {
    hljsLoading = import('../vendor/highlight.js').then(async (m) => {
      hljs = m.default;
      // The blocks rendered meanwhile (in the DOM or not: a chat keeps
      // trimmed messages to put back), a few milliseconds per task.
      let end = performance.now() + 8;
      for (const code of waiting) {
        waiting.delete(code);
        highlight(code);
        if (performance.now() > end) {
          await new Promise((resolve) => setTimeout(resolve, 0));
          end = performance.now() + 8;
        }
      }
    }).catch(() => { /* plain code blocks are fine */ });
  }
}

function highlight(code) {
  const lang = code.dataset.lang;
  if (!lang || !hljs.getLanguage(lang)) return;
  const result = hljs.highlight(code.textContent, { language: lang, ignoreIllegals: true });
  // highlight.js escapes the code it wraps in spans; DOMPurify once more
  // anyway, so nothing but its markup can come through.
  code.replaceChildren(DOMPurify.sanitize(result.value, { ALLOWED_TAGS: ['span'], ALLOWED_ATTR: ['class'], RETURN_DOM_FRAGMENT: true }));
  code.classList.add('hljs');
}

function decorateCode(pre) {
  const code = pre.querySelector('code') || pre;
  const match = /(?:^|\s)language-([\w+#-]+)/.exec(code.getAttribute('data-class') || '');
  const lang = match ? match[1].toLowerCase() : '';
  code.dataset.lang = { js: 'javascript', ts: 'typescript', py: 'python', sh: 'bash', html: 'xml', yml: 'yaml', 'c++': 'cpp' }[lang] || lang;
  const copy = h('button', { type: 'button', class: 'btn small ghost code-copy', 'aria-label': 'Copy code' }, icon('copy'), h('span', {}, 'Copy'));
  copy.addEventListener('click', async () => flashCopied(copy, await copyText(code.textContent)));
  const head = h('div', { class: 'code-head' }, h('span', { class: 'code-lang' }, lang || 'text'), copy);
  const wrap = h('div', { class: 'code-block' });
  pre.replaceWith(wrap);
  wrap.append(head, pre);
  if (code.dataset.lang) {
    if (hljs) highlight(code);
    else { waiting.add(code); loadHighlighter(); }
  }
}

// Keeps the language class marked writes: DOMPurify removes every class.
DOMPurify.addHook('uponSanitizeAttribute', (node, data) => {
  if (node.nodeName === 'CODE' && data.attrName === 'class' && /^language-[\w+#-]+$/.test(data.attrValue)) {
    node.setAttribute('data-class', data.attrValue);
  }
});
DOMPurify.addHook('afterSanitizeAttributes', (node) => {
  if (node.nodeName === 'A' && node.hasAttribute('href')) {
    node.setAttribute('target', '_blank');
    node.setAttribute('rel', 'noopener noreferrer');
  }
});

// Replaces container's children with text rendered as Markdown.
export function renderMarkdown(container, text) {
  const html = marked.parse(text || '', { async: false });
  const frag = DOMPurify.sanitize(html, PURIFY);
  for (const pre of frag.querySelectorAll('pre')) decorateCode(pre);
  for (const t of frag.querySelectorAll('table')) {
    const wrap = h('div', { class: 'table-scroll' });
    t.replaceWith(wrap);
    wrap.append(t);
  }
  container.replaceChildren(frag);
}
