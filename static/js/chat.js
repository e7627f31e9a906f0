// chat.js — the chat app at /: the conversation sidebar (newest first,
// pinned on top, rename inline, delete with confirmation, infinite scroll,
// search that jumps to a message), the chat pane (streamed replies rendered
// as sanitised Markdown, stop, regenerate, copy), the model picker, the
// system-prompt editor, export, and the keyboard shortcuts. Long
// conversations open at their newest page (?reverse=true). The DOM holds a
// window of at most MAX_DOM messages around what the reader sees: batches of
// BATCH are added (one batch per frame) as the reader nears either end, older
// pages fetched when needed, and the far side trimmed (the data stays in
// memory; a trimmed message's node is kept and put back). A reply is shown
// as plain text until it comes near the view, then rendered as Markdown in
// small time slices. Adding, trimming and rendering above the view keep
// what the reader sees in place.
import { api, ApiError, connection, logout, stream } from './api.js';
import { $, confirmDialog, copyText, debounce, flashCopied, h, icon } from './ui.js';

// The page's first data (src/web/pages.c: data-boot): the first page of
// conversations and the model list as the API answers them, so the sidebar
// and the model picker are filled in the module's first run, before the
// first paint. Either may be null (the model list when the server would
// have had to ask the LLM server): then it is fetched.
const boot = (() => {
  try { return JSON.parse(document.body.dataset.boot || '{}') || {}; } catch { return {}; }
})();

const FIRST = 10;               // messages shown when a conversation opens
const BATCH = 10;               // messages added to the DOM per task
const MAX_DOM = 150;            // messages in the DOM at most
const MARGIN = 1500;            // px of messages kept ready beyond the view
const PAGE = 200;               // messages per API page
const MD_SLICE = 8;             // ms of Markdown rendering per task

const el = {
  sidebar: $('#sidebar'), scrim: $('#scrim'), openSidebar: $('#open-sidebar'),
  closeSidebar: $('#close-sidebar'), newChat: $('#new-chat'), search: $('#search'),
  results: $('#search-results'), convList: $('#conv-list'), convItems: $('#conv-items'),
  convState: $('#conv-state'), sentinel: $('#conv-sentinel'), title: $('#chat-title'),
  model: $('#model'), systemBtn: $('#system-btn'), exportBtn: $('#export-btn'),
  exportMenu: $('#export-menu'), exportMd: $('#export-md'), exportJson: $('#export-json'),
  messages: $('#messages'), empty: $('#empty'), loadOlder: $('#load-older'),
  olderBtn: $('#older-btn'), list: $('#msg-list'), errorBar: $('#error-bar'),
  errorText: $('#error-text'), errorRetry: $('#error-retry'), errorClose: $('#error-close'),
  composer: $('#composer'), input: $('#composer-input'), send: $('#send'), stop: $('#stop'),
  systemDialog: $('#system-dialog'), systemInput: $('#system-input'), systemError: $('#system-error'),
};

const state = {
  convs: new Map(),             // id -> conversation
  nextCursor: null,
  convsLoaded: false,
  loadingConvs: false,
  current: null,                // the open conversation, or null for a new chat
  messages: [],                 // the open conversation's messages, oldest first
  from: 0,                      // the DOM holds messages[from, to)
  to: 0,
  streaming: null,              // {controller, convId, reply, stopping}
  models: [],
  draft: { model: '', system_prompt: '' },   // settings of a chat not yet created
  openToken: 0,                 // discards answers for a conversation no longer open
  olderCursor: null,            // where the messages before state.messages[0] continue
  fetchingOlder: false,
  retry: null,
};

// --- errors and the connection ----------------------------------------------

function showError(message, retry) {
  el.errorText.textContent = message;
  state.retry = retry || null;
  el.errorRetry.hidden = !retry;
  el.errorBar.hidden = false;
}
function hideError() { el.errorBar.hidden = true; state.retry = null; }
el.errorRetry.addEventListener('click', () => { const r = state.retry; hideError(); if (r) r(); });
el.errorClose.addEventListener('click', hideError);
connection.onChange((lost) => {
  if (!lost && state.retry && el.errorBar.hidden === false) el.errorRetry.focus();
});

function describe(err) {
  if (err.status === 0) return err.message;
  if (err.status === 409) return 'A reply is already being written in this conversation. Wait for it or stop it.';
  if (err.status === 429) return 'Too many requests. Wait a moment and retry.';
  if (err.status >= 500) return `The server failed (${err.status}): ${err.message}`;
  return err.message;
}

// --- the sidebar ----------------------------------------------------------------

function sortedConvs() {
  return [...state.convs.values()].sort((a, b) =>
    (b.pinned - a.pinned) || (b.updated_at > a.updated_at ? 1 : b.updated_at < a.updated_at ? -1 : b.id - a.id));
}

function convItem(c) {
  const current = state.current && state.current.id === c.id;
  const link = h('a', { class: 'conv-link', href: `/?c=${c.id}`, 'aria-current': current ? 'page' : null },
    c.pinned ? icon('pin') : icon('message-square'), h('span', { class: 'conv-title' }, c.title || 'New chat'));
  link.addEventListener('click', (ev) => {
    if (ev.ctrlKey || ev.metaKey || ev.shiftKey || ev.button !== 0) return;
    ev.preventDefault();
    openConversation(c.id, { push: true });
  });
  link.addEventListener('dblclick', (ev) => { ev.preventDefault(); startRename(c.id); });
  const actions = h('div', { class: 'conv-actions' },
    h('button', { type: 'button', class: 'icon-btn small', 'aria-label': c.pinned ? `Unpin ${c.title}` : `Pin ${c.title}`, title: c.pinned ? 'Unpin' : 'Pin', onclick: () => togglePin(c.id) },
      c.pinned ? icon('pin-off') : icon('pin')),
    h('button', { type: 'button', class: 'icon-btn small', 'aria-label': `Rename ${c.title}`, title: 'Rename', onclick: () => startRename(c.id) }, icon('pencil')),
    h('button', { type: 'button', class: 'icon-btn small', 'aria-label': `Delete ${c.title}`, title: 'Delete', onclick: () => deleteConversation(c.id) }, icon('trash-2')));
  return h('li', { class: `conv${c.pinned ? ' pinned' : ''}${current ? ' current' : ''}`, 'data-id': c.id }, link, actions);
}

function renderConvs() {
  const items = sortedConvs();
  el.convItems.replaceChildren(...items.map(convItem));
  if (state.convsLoaded && items.length === 0) {
    el.convState.textContent = 'No conversations yet.';
    el.convState.hidden = false;
  } else if (!el.convState.classList.contains('error')) {
    el.convState.hidden = true;
  }
}

function upsertConv(c) {
  state.convs.set(c.id, { ...(state.convs.get(c.id) || {}), ...c });
  if (state.current && state.current.id === c.id) {
    state.current = state.convs.get(c.id);
    showHeader();
  }
  renderConvs();
}

async function loadConvs() {
  if (state.loadingConvs || (state.convsLoaded && !state.nextCursor)) return;
  state.loadingConvs = true;
  el.convState.classList.remove('error');
  try {
    const q = state.nextCursor ? `&cursor=${encodeURIComponent(state.nextCursor)}` : '';
    const page = !q && boot.conversations ? boot.conversations : await api('GET', `/api/v1/conversations?limit=50${q}`);
    boot.conversations = null;      // a retry or a later first page asks the server
    for (const c of page.items) state.convs.set(c.id, c);
    state.nextCursor = page.next_cursor;
    state.convsLoaded = true;
    renderConvs();
  } catch (err) {
    el.convState.replaceChildren(h('span', {}, 'Could not load conversations. '),
      h('button', { type: 'button', class: 'link-btn', onclick: () => { el.convState.hidden = true; loadConvs(); } }, 'Retry'));
    el.convState.classList.add('error');
    el.convState.hidden = false;
  } finally {
    state.loadingConvs = false;
  }
  // The list may not fill the sidebar yet: keep loading while the end shows.
  if (state.nextCursor && isVisible(el.sentinel, el.convList)) loadConvs();
}

function isVisible(node, root) {
  const r = node.getBoundingClientRect();
  const rr = root.getBoundingClientRect();
  return r.top < rr.bottom + 200 && r.bottom > rr.top;
}

new IntersectionObserver((entries) => {
  if (entries.some((e) => e.isIntersecting)) loadConvs();
}, { root: el.convList, rootMargin: '200px' }).observe(el.sentinel);

async function togglePin(id) {
  const c = state.convs.get(id);
  try {
    upsertConv(await api('PATCH', `/api/v1/conversations/${id}`, { pinned: !c.pinned }));
  } catch (err) {
    showError(`Could not ${c.pinned ? 'unpin' : 'pin'} the conversation: ${describe(err)}`, () => togglePin(id));
  }
}

function startRename(id) {
  const li = el.convItems.querySelector(`li[data-id="${id}"]`);
  const c = state.convs.get(id);
  if (!li || !c) return;
  const input = h('input', { class: 'rename-input', 'aria-label': 'New title', maxlength: 200 });
  input.value = c.title;
  let done = false;
  const finish = async (save) => {
    if (done) return;
    done = true;
    const title = input.value.trim();
    if (!save || !title || title === c.title) { renderConvs(); return; }
    try {
      upsertConv(await api('PATCH', `/api/v1/conversations/${id}`, { title }));
    } catch (err) {
      renderConvs();
      showError(`Could not rename: ${describe(err)}`, () => startRename(id));
    }
  };
  input.addEventListener('keydown', (ev) => {
    if (ev.key === 'Enter') { ev.preventDefault(); finish(true); }
    else if (ev.key === 'Escape') { ev.preventDefault(); ev.stopPropagation(); finish(false); }
  });
  input.addEventListener('blur', () => finish(true));
  li.replaceChildren(h('div', { class: 'conv-rename' }, icon('pencil'), input));
  input.focus();
  input.select();
}

async function deleteConversation(id) {
  const c = state.convs.get(id);
  if (!(await confirmDialog('Delete this conversation?', `“${c.title}” and all its messages will be gone for good.`, 'Delete'))) return;
  try {
    await api('DELETE', `/api/v1/conversations/${id}`);
    state.convs.delete(id);
    if (state.current && state.current.id === id) newChat({ push: true });
    renderConvs();
  } catch (err) {
    if (err.status === 404) { state.convs.delete(id); renderConvs(); return; }
    showError(`Could not delete: ${describe(err)}`, () => deleteConversation(id));
  }
}

// --- drawer (narrow screens) --------------------------------------------------

function setDrawer(open) {
  document.body.classList.toggle('drawer-open', open);
  el.scrim.hidden = !open;
  el.openSidebar.setAttribute('aria-expanded', String(open));
  if (open) el.newChat.focus();
}
el.openSidebar.addEventListener('click', () => setDrawer(true));
el.closeSidebar.addEventListener('click', () => { setDrawer(false); el.openSidebar.focus(); });
el.scrim.addEventListener('click', () => setDrawer(false));
const narrow = () => window.matchMedia('(max-width: 800px)').matches;

// --- search -------------------------------------------------------------------

function snippetNode(text, highlights) {
  // Offsets count characters (code points), as the server does.
  const chars = Array.from(text || '');
  const out = h('span', { class: 'snippet' });
  let at = 0;
  for (const [start, end] of (highlights || []).slice().sort((a, b) => a[0] - b[0])) {
    if (start < at || end <= start || end > chars.length) continue;
    out.append(chars.slice(at, start).join(''), h('mark', {}, chars.slice(start, end).join('')));
    at = end;
  }
  out.append(chars.slice(at).join(''));
  return out;
}

let searchSeq = 0;
const runSearch = debounce(async () => {
  const q = el.search.value.trim();
  const seq = ++searchSeq;
  if (!q) { el.results.hidden = true; el.results.replaceChildren(); return; }
  try {
    const res = await api('GET', `/api/v1/search?q=${encodeURIComponent(q)}&limit=20`);
    if (seq !== searchSeq) return;
    const items = res.items || [];
    el.results.replaceChildren(
      h('p', { class: 'results-head' }, items.length ? `${items.length} result${items.length === 1 ? '' : 's'}` : 'No messages match.'),
      ...items.map((r) => h('button', {
        type: 'button', class: 'result',
        onclick: () => {
          openConversation(r.conversation_id, { push: true, messageId: r.message_id });
          if (narrow()) setDrawer(false);
        },
      }, h('span', { class: 'result-title' }, r.title || 'Untitled'), snippetNode(r.snippet, r.highlights))));
    el.results.hidden = false;
  } catch (err) {
    if (seq !== searchSeq) return;
    el.results.replaceChildren(h('p', { class: 'results-head error' }, `Search failed: ${describe(err)}`));
    el.results.hidden = false;
  }
}, 200);
el.search.addEventListener('input', runSearch);
el.search.addEventListener('keydown', (ev) => {
  if (ev.key === 'Escape') { el.search.value = ''; runSearch(); ev.stopPropagation(); }
  else if (ev.key === 'ArrowDown') { const first = el.results.querySelector('.result'); if (first) { ev.preventDefault(); first.focus(); } }
  else if (ev.key === 'Enter') { const first = el.results.querySelector('.result'); if (first) { ev.preventDefault(); first.click(); } }
});
el.results.addEventListener('keydown', (ev) => {
  const all = [...el.results.querySelectorAll('.result')];
  const i = all.indexOf(document.activeElement);
  if (ev.key === 'ArrowDown' && i >= 0 && i < all.length - 1) { ev.preventDefault(); all[i + 1].focus(); }
  else if (ev.key === 'ArrowUp') { ev.preventDefault(); (i > 0 ? all[i - 1] : el.search).focus(); }
});

// --- messages -------------------------------------------------------------------

let markdown = null;            // markdown.js, loaded with the first message to render
let md = null;                  // ... and the module once it is there
function withMarkdown() {
  if (!markdown) markdown = import('./markdown.js').then((m) => { md = m; return m; });
  return markdown;
}

// Yields to the browser: the next frame, then a task after it.
const nextFrame = () => new Promise((resolve) => requestAnimationFrame(() => setTimeout(resolve, 0)));
const nextTask = () => (globalThis.scheduler && scheduler.yield ? scheduler.yield() : new Promise((resolve) => setTimeout(resolve, 0)));

// Replies waiting for their Markdown: shown as plain text (.md-pending)
// until they come within MARGIN of the view (as far as fill() reaches).
const mdQueue = new Set();
let mdRunning = false;
const mdObserver = new IntersectionObserver((entries) => {
  for (const e of entries) if (e.isIntersecting) mdQueue.add(e.target);
  runMarkdownQueue();
}, { root: el.messages, rootMargin: `${MARGIN}px 0px` });

// Renders the queued replies a few milliseconds at a time, yielding between
// slices, each slice keeping the reader's place (or the bottom).
async function runMarkdownQueue() {
  if (mdRunning || !mdQueue.size) return;
  mdRunning = true;
  try {
    try { await withMarkdown(); } catch { /* shown as plain text */ }
    while (mdQueue.size) {
      const end = performance.now() + MD_SLICE;
      const stick = nearBottom();
      keepPlace(() => {
        for (const node of mdQueue) {
          mdQueue.delete(node);
          renderMarkdownNow(node);
          if (performance.now() > end) break;
        }
      });
      if (stick) scrollToBottom();
      if (mdQueue.size) await nextTask();
    }
  } finally {
    mdRunning = false;
  }
  idleMarkdown();
}

// The replies left in the DOM as plain text (beyond the margin) are
// rendered too, newest first, in the browser's idle time.
let idleQueued = false;
function idleMarkdown() {
  if (idleQueued || !md || !el.list.querySelector('.md-pending')) return;
  idleQueued = true;
  const idle = window.requestIdleCallback || ((f) => setTimeout(() => f({ timeRemaining: () => MD_SLICE }), 50));
  idle((deadline) => {
    idleQueued = false;
    if (mdRunning || mdQueue.size) return;      // near the view first; it calls back
    const pending = [...el.list.querySelectorAll('.md-pending')].reverse();
    const stick = nearBottom();
    const end = performance.now() + Math.min(MD_SLICE, deadline.timeRemaining());
    keepPlace(() => {
      for (const content of pending) {
        if (performance.now() > end) break;
        renderMarkdownNow(content.closest('.msg'));
      }
    });
    if (stick) scrollToBottom();
    idleMarkdown();
  }, { timeout: 2000 });
}

function renderMarkdownNow(node) {
  const content = node.querySelector('.content');
  if (!node.isConnected || !content.classList.contains('md-pending')) return;
  mdObserver.unobserve(node);
  content.classList.remove('md-pending');
  if (md) md.renderMarkdown(content, node.msg.content);
}

// lazy: leave the Markdown to the observer (plain text until then); else
// render it now if markdown.js is loaded (one message: a stream's end, an
// edit), or as soon as it is.
function renderContent(msg, node, lazy = false) {
  const content = node.querySelector('.content');
  if (msg.role === 'user') {
    content.textContent = msg.content;
    return;
  }
  if (!msg.content && msg.status === 'streaming') {
    content.replaceChildren(h('span', { class: 'typing', 'aria-label': 'Writing' }, h('i'), h('i'), h('i')));
    return;
  }
  if (!lazy && md) {
    content.classList.remove('md-pending');
    md.renderMarkdown(content, msg.content);
    return;
  }
  if (!lazy || !content.firstChild) {
    content.textContent = msg.content;
    content.classList.add('md-pending');
  }
  mdObserver.observe(node);
  if (!lazy) withMarkdown().then(() => { mdQueue.add(node); runMarkdownQueue(); }).catch(() => {});
}

function statusNote(msg) {
  if (msg.status === 'stopped') return h('p', { class: 'msg-note' }, icon('circle-stop'), h('span', {}, 'Stopped'));
  if (msg.status === 'error') return h('p', { class: 'msg-note error' }, icon('circle-alert'), h('span', {}, msg.error || 'The reply failed.'));
  return null;
}

function isLastReply(msg) {
  const last = state.messages[state.messages.length - 1];
  return last === msg && msg.role === 'assistant';
}

function messageNode(msg, lazy = false) {
  const mine = msg.role === 'user';
  const actions = h('div', { class: 'msg-actions' });
  if (msg.status !== 'streaming') {
    const copy = h('button', { type: 'button', class: 'btn small ghost', 'aria-label': 'Copy message', title: 'Copy' }, icon('copy'), h('span', {}, 'Copy'));
    copy.addEventListener('click', async () => flashCopied(copy, await copyText(msg.content)));
    actions.append(copy);
    if (isLastReply(msg) && !state.streaming) {
      actions.append(h('button', { type: 'button', class: 'btn small ghost regenerate', title: 'Regenerate', onclick: () => regenerate() },
        icon('refresh-cw'), h('span', {}, 'Regenerate')));
    }
  }
  const streaming = msg.status === 'streaming';
  const node = h('li', { class: `msg ${mine ? 'msg-user' : 'msg-bot'}${streaming ? ' streaming' : ''}`, 'data-id': msg.id, id: `m-${msg.id}` },
    h('div', { class: 'avatar', 'aria-hidden': 'true' }, mine ? icon('user') : icon('bot')),
    h('div', { class: 'bubble' },
      h('span', { class: 'visually-hidden' }, mine ? 'You said:' : 'chatbot said:'),
      h('div', { class: 'content', 'aria-live': streaming ? 'polite' : null, 'aria-busy': streaming ? 'true' : null }),
      statusNote(msg), actions));
  node.msg = msg;
  msg.node = node;
  renderContent(msg, node, lazy);
  return node;
}

// A message's node for the window: the one it had (trimmed, kept) or new.
const nodeOf = (msg) => (msg.node && !msg.node.isConnected ? msg.node : messageNode(msg, true));

function replaceNode(msg) {
  const old = msg.node;
  const fresh = messageNode(msg);
  if (old && old.isConnected) old.replaceWith(fresh);
}

function showEmpty() {
  const empty = state.messages.length === 0;
  el.empty.hidden = !empty;
  const hide = state.from === 0 && !state.olderCursor;
  // The button sits above the messages: showing or hiding it must not move them.
  if (el.loadOlder.hidden !== hide) keepPlace(() => { el.loadOlder.hidden = hide; });
}

function nearBottom() {
  const m = el.messages;
  return m.scrollHeight - m.scrollTop - m.clientHeight < 80;
}
function scrollToBottom() { el.messages.scrollTop = el.messages.scrollHeight; }

// Runs change() (messages added or removed, or grown, above what the reader
// sees) and scrolls by as much as the anchor moved, so the view stays put.
// The anchor is the first message starting inside the view (one that only
// ends inside it may be what grows), else the one filling the view. The
// pane has overflow-anchor: none: this is the one place that anchors.
function keepPlace(change) {
  const top = el.messages.getBoundingClientRect().top;
  const kids = el.list.children;
  let lo = 0, hi = kids.length - 1, anchor = null;
  while (lo <= hi) {              // binary search: the first whose top is below the pane's top
    const mid = (lo + hi) >> 1;
    if (kids[mid].getBoundingClientRect().top >= top) { anchor = kids[mid]; hi = mid - 1; } else lo = mid + 1;
  }
  if (!anchor || anchor.getBoundingClientRect().top > el.messages.getBoundingClientRect().bottom)
    anchor = kids[Math.max(0, lo - 1)] || null;
  const before = anchor ? anchor.getBoundingClientRect().top : 0;
  change();
  if (anchor && anchor.isConnected) el.messages.scrollTop += anchor.getBoundingClientRect().top - before;
}

// Puts messages[from, to) in the DOM in place of what was there (at most
// FIRST: fill() adds the rest as the view needs it).
function renderMessages(to = state.messages.length, from = Math.max(0, to - FIRST)) {
  state.from = from;
  state.to = to;
  el.list.replaceChildren(...state.messages.slice(from, to).map(nodeOf));
  showEmpty();
}

// Removes messages from the far end while the window is too big.
function trim(fromBottom) {
  while (state.to - state.from > MAX_DOM) {
    if (fromBottom) {
      if (state.streaming) return;            // the reply being written stays
      state.messages[--state.to].node.remove();
    } else {
      state.messages[state.from++].node.remove();
    }
  }
}

function addAbove() {
  const to = state.from;
  const from = Math.max(0, to - BATCH);
  keepPlace(() => {
    el.list.prepend(...state.messages.slice(from, to).map(nodeOf));
    state.from = from;
    trim(true);
  });
}

function addBelow() {
  const from = state.to;
  const to = Math.min(state.messages.length, from + BATCH);
  keepPlace(() => {
    el.list.append(...state.messages.slice(from, to).map(nodeOf));
    state.to = to;
    trim(false);
  });
}

// Adds batches, one per frame, while the view comes within MARGIN of either
// end of the window (fetching older pages when the window reaches the
// oldest message held).
let filling = false;
async function fill() {
  if (filling) return;
  filling = true;
  const token = state.openToken;
  try {
    for (;;) {
      const m = el.messages;
      if (token !== state.openToken || !state.messages.length) break;
      if (m.scrollTop < MARGIN && (state.from > 0 || state.olderCursor)) {
        if (state.from === 0 && !(await fetchOlderMessages())) break;
        if (token !== state.openToken) break;
        addAbove();
      } else if (m.scrollHeight - m.scrollTop - m.clientHeight < MARGIN && state.to < state.messages.length) {
        addBelow();
      } else {
        break;
      }
      showEmpty();
      await nextFrame();
    }
  } finally {
    filling = false;
  }
  showEmpty();
}
// A scroll event runs inside the browser's frame task, before its style,
// layout and paint: fill in a task of its own, so a batch and the layout it
// forces never make that frame's task longer.
el.messages.addEventListener('scroll', () => { if (!filling) setTimeout(fill, 0); }, { passive: true });

function appendMessage(msg) {
  // The window may have left the end: bring the newest messages back first.
  if (state.to < state.messages.length) { renderMessages(); scrollToBottom(); }
  const stick = nearBottom();
  state.messages.push(msg);
  // The previous last reply loses its regenerate button.
  const prev = state.messages[state.messages.length - 2];
  if (prev && prev.role === 'assistant' && prev.node) replaceNode(prev);
  el.list.append(messageNode(msg));
  state.to = state.messages.length;
  showEmpty();
  if (stick || msg.role === 'user') scrollToBottom();
}

// The "Show earlier messages" button: one batch more above.
async function showOlder() {
  if (state.from === 0 && !(await fetchOlderMessages())) return;
  addAbove();
  showEmpty();
}
el.olderBtn.addEventListener('click', showOlder);

function jumpTo(messageId) {
  const i = state.messages.findIndex((m) => m.id === messageId);
  if (i < 0) return;
  if (i < state.from || i >= state.to) {
    const from = Math.max(0, i - 5);
    renderMessages(Math.min(state.messages.length, from + FIRST), from);
  }
  const node = state.messages[i].node;
  if (!node) return;
  node.scrollIntoView({ block: 'center' });
  fill();
  node.classList.remove('flash');
  void node.offsetWidth;        // restart the highlight animation
  node.classList.add('flash');
}

// The newest page of a conversation (?reverse=true walks the list from its
// end), oldest first; state.olderCursor continues backwards.
async function fetchNewestMessages(id, token) {
  const page = await api('GET', `/api/v1/conversations/${id}/messages?reverse=true&limit=${PAGE}`);
  if (token !== state.openToken) return null;
  state.olderCursor = page.next_cursor;
  return page.items.slice().reverse();
}

// The page before the oldest message held, put in front of state.messages.
async function fetchOlderMessages() {
  const c = state.current;
  if (!c || !state.olderCursor || state.fetchingOlder) return false;
  state.fetchingOlder = true;
  const token = state.openToken;
  try {
    const page = await api('GET', `/api/v1/conversations/${c.id}/messages?reverse=true&limit=${PAGE}&cursor=${encodeURIComponent(state.olderCursor)}`);
    if (token !== state.openToken) return false;
    state.olderCursor = page.next_cursor;
    const older = page.items.slice().reverse();
    state.messages.unshift(...older);
    state.from += older.length;
    state.to += older.length;
    return older.length > 0;
  } catch (err) {
    showError(`Could not load earlier messages: ${describe(err)}`, () => showOlder());
    return false;
  } finally {
    state.fetchingOlder = false;
  }
}

// --- header: title, model, export -------------------------------------------------

function showHeader() {
  const c = state.current;
  el.title.textContent = c ? c.title : 'New chat';
  document.title = `${c ? c.title : 'New chat'} · chatbot`;
  el.exportBtn.disabled = !c;
  if (c) {
    el.exportMd.href = `/api/v1/conversations/${c.id}/export?format=md`;
    el.exportJson.href = `/api/v1/conversations/${c.id}/export?format=json`;
  }
  setModelValue(c ? c.model : state.draft.model);
  el.systemBtn.classList.toggle('active', Boolean(c ? c.system_prompt : state.draft.system_prompt));
}

function setModelValue(value) {
  if (value && ![...el.model.options].some((o) => o.value === value))
    el.model.append(h('option', { value }, `${value} (unavailable)`));
  el.model.value = value || '';
}

async function loadModels() {
  try {
    const res = boot.models || await api('GET', '/api/v1/models');
    boot.models = null;
    state.models = res.items || [];
  } catch {
    state.models = [];
  }
  el.model.replaceChildren(h('option', { value: '' }, 'Default model'),
    ...state.models.map((m) => h('option', { value: m.id }, m.name || m.id)));
  setModelValue(state.current ? state.current.model : state.draft.model);
}

el.model.addEventListener('change', async () => {
  const model = el.model.value;
  if (!state.current) { state.draft.model = model; return; }
  try {
    upsertConv(await api('PATCH', `/api/v1/conversations/${state.current.id}`, { model }));
  } catch (err) {
    setModelValue(state.current.model);
    showError(`Could not change the model: ${describe(err)}`);
  }
});

el.exportBtn.addEventListener('click', () => {
  const open = el.exportMenu.hidden;
  el.exportMenu.hidden = !open;
  el.exportBtn.setAttribute('aria-expanded', String(open));
  if (open) el.exportMenu.querySelector('a').focus();
});
for (const a of [el.exportMd, el.exportJson]) a.addEventListener('click', () => { el.exportMenu.hidden = true; el.exportBtn.setAttribute('aria-expanded', 'false'); });
document.addEventListener('click', (ev) => {
  if (!el.exportMenu.hidden && !ev.target.closest('.menu-wrap')) {
    el.exportMenu.hidden = true;
    el.exportBtn.setAttribute('aria-expanded', 'false');
  }
});

// --- system prompt ------------------------------------------------------------------

el.systemBtn.addEventListener('click', () => {
  el.systemInput.value = state.current ? state.current.system_prompt || '' : state.draft.system_prompt;
  el.systemError.textContent = '';
  el.systemDialog.showModal();
  el.systemInput.focus();
});
$('#system-cancel').addEventListener('click', () => el.systemDialog.close());
$('#system-form').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const system_prompt = el.systemInput.value;
  if (!state.current) {
    state.draft.system_prompt = system_prompt;
    el.systemDialog.close();
    showHeader();
    return;
  }
  try {
    upsertConv(await api('PATCH', `/api/v1/conversations/${state.current.id}`, { system_prompt }));
    el.systemDialog.close();
  } catch (err) {
    el.systemError.textContent = (err.fields && err.fields.system_prompt) || describe(err);
  }
});

// --- opening and starting conversations ------------------------------------------------

function setUrl(id, push) {
  const url = id ? `/?c=${id}` : '/';
  if (location.pathname + location.search === url) return;
  if (push) history.pushState({ c: id }, '', url);
  else history.replaceState({ c: id }, '', url);
}

function newChat({ push } = {}) {
  if (state.streaming) stopReply();
  state.openToken++;
  state.current = null;
  state.messages = [];
  state.from = state.to = 0;
  state.olderCursor = null;
  state.draft = { model: state.draft.model, system_prompt: '' };
  hideError();
  setUrl(null, push);
  renderMessages();
  showHeader();
  renderConvs();
  if (narrow()) setDrawer(false);
  el.input.focus();
}

async function openConversation(id, { push = false, messageId = null } = {}) {
  if (state.current && state.current.id === id && state.messages.length) {
    setUrl(id, push);
    if (messageId) jumpTo(messageId);
    if (narrow()) setDrawer(false);
    return;
  }
  const token = ++state.openToken;
  hideError();
  setUrl(id, push);
  state.current = state.convs.get(id) || { id, title: '…', model: '', system_prompt: '' };
  state.messages = [];
  state.from = state.to = 0;
  state.olderCursor = null;
  renderMessages();
  el.empty.hidden = true;
  showHeader();
  renderConvs();
  el.messages.setAttribute('aria-busy', 'true');
  try {
    const [conv, messages] = await Promise.all([
      api('GET', `/api/v1/conversations/${id}`), fetchNewestMessages(id, token)]);
    if (token !== state.openToken || !messages) return;
    upsertConv(conv);
    state.messages = messages;
    // A search hit older than the newest page: walk back to it.
    for (let n = 0; messageId && n < 100 && state.olderCursor && !state.messages.some((m) => m.id === messageId); n++)
      if (!(await fetchOlderMessages())) break;
    if (token !== state.openToken) return;
    renderMessages();
    if (messageId) requestAnimationFrame(() => jumpTo(messageId));
    else { scrollToBottom(); fill(); }
  } catch (err) {
    if (token !== state.openToken) return;
    if (err.status === 404) {
      state.convs.delete(id);
      newChat({ push: false });
      showError('That conversation does not exist (any more).');
      return;
    }
    showError(`Could not open the conversation: ${describe(err)}`, () => { state.current = null; openConversation(id); });
  } finally {
    el.messages.removeAttribute('aria-busy');
  }
  if (narrow()) setDrawer(false);
}

window.addEventListener('popstate', () => {
  const id = parseInt(new URLSearchParams(location.search).get('c') || '', 10);
  if (id > 0) openConversation(id);
  else newChat();
});

// --- sending, streaming, stop, regenerate -----------------------------------------------

function setStreamingUI(on) {
  el.send.hidden = on;
  el.stop.hidden = !on;
  el.composer.classList.toggle('busy', on);
}

let renderPending = 0;
function scheduleRender(msg) {
  if (renderPending) return;
  renderPending = requestAnimationFrame(() => {
    renderPending = 0;
    const stick = nearBottom();
    if (msg.node) renderContent(msg, msg.node);
    if (stick) scrollToBottom();
  });
}

// Runs one streamed reply into `reply` (already shown). userMsg is the
// optimistic user message (null when regenerating). Resolves to true when
// the server stored the user's message (so a failure is the reply's, not
// the send's).
async function runStream(convId, path, body, reply, userMsg) {
  const controller = new AbortController();
  const s = { controller, convId, reply, stopping: false };
  state.streaming = s;
  setStreamingUI(true);
  let stored = !userMsg;
  try {
    await stream(path, body, {
      signal: controller.signal,
      onEvent(name, data) {
        if (state.streaming !== s) return;
        if (name === 'user_message' && userMsg) {
          stored = true;
          Object.assign(userMsg, data);
          if (userMsg.node) { userMsg.node.dataset.id = data.id; userMsg.node.id = `m-${data.id}`; }
        } else if (name === 'delta') {
          stored = true;
          reply.content += (data && data.content) || '';
          scheduleRender(reply);
        } else if (name === 'done') {
          stored = true;
          Object.assign(reply, (data && data.message) || {});
        } else if (name === 'error') {
          stored = true;
          if (data && data.message) Object.assign(reply, data.message);
          reply.status = 'error';
          reply.error = (data && data.detail) || 'The bot failed to answer.';
        }
      },
    });
    if (reply.status === 'streaming') reply.status = s.stopping ? 'stopped' : 'complete';
  } catch (err) {
    if (err && err.name === 'AbortError') {
      reply.status = 'stopped';
    } else if (!stored) {
      throw err;
    } else {
      reply.status = 'error';
      reply.error = describe(err);
    }
  } finally {
    if (state.streaming === s) state.streaming = null;
    setStreamingUI(false);
  }
  return true;
}

async function refreshCurrent(convId) {
  try {
    upsertConv(await api('GET', `/api/v1/conversations/${convId}`));
  } catch { /* the title can wait */ }
}

async function ensureConversation() {
  if (state.current) return state.current;
  const body = {};
  if (state.draft.model) body.model = state.draft.model;
  if (state.draft.system_prompt) body.system_prompt = state.draft.system_prompt;
  const conv = await api('POST', '/api/v1/conversations', body);
  state.convs.set(conv.id, conv);
  state.current = conv;
  state.openToken++;
  setUrl(conv.id, true);
  showHeader();
  renderConvs();
  return conv;
}

async function send(text) {
  if (state.streaming || !text.trim()) return;
  hideError();
  let conv;
  try {
    conv = await ensureConversation();
  } catch (err) {
    showError(`Could not start the conversation: ${describe(err)}`, () => send(text));
    return;
  }
  el.input.value = '';
  autosize();
  const userMsg = { id: 'pending-user', role: 'user', content: text, status: 'complete' };
  const reply = { id: 'pending-reply', role: 'assistant', content: '', status: 'streaming' };
  appendMessage(userMsg);
  appendMessage(reply);
  try {
    await runStream(conv.id, `/api/v1/conversations/${conv.id}/messages`, { content: text, stream: true }, reply, userMsg);
  } catch (err) {
    // Nothing was stored: take the messages back and give the text back.
    state.messages = state.messages.filter((m) => m !== userMsg && m !== reply);
    state.to = Math.min(state.to, state.messages.length);
    userMsg.node.remove();
    reply.node.remove();
    showEmpty();
    if (!el.input.value) { el.input.value = text; autosize(); }
    const fields = err instanceof ApiError && err.fields && err.fields.content;
    showError(fields ? `Your message was not sent: ${fields}` : `Your message was not sent: ${describe(err)}`,
      fields ? null : () => send(el.input.value || text));
    return;
  }
  finishReply(reply, conv.id);
}

function finishReply(reply, convId) {
  if (reply.id === 'pending-reply' && reply.status !== 'complete') reply.id = `local-${Date.now()}`;
  replaceNode(reply);
  if (reply.status === 'error')
    showError(`The reply failed: ${reply.error}`, () => regenerate());
  if (state.current && state.current.id === convId) refreshCurrent(convId);
}

async function regenerate() {
  const c = state.current;
  if (state.streaming || !c) return;
  const last = state.messages[state.messages.length - 1];
  if (!last || last.role !== 'assistant') return;
  hideError();
  const reply = { id: 'pending-reply', role: 'assistant', content: '', status: 'streaming' };
  state.messages[state.messages.length - 1] = reply;
  last.node.replaceWith(messageNode(reply));
  try {
    await runStream(c.id, `/api/v1/conversations/${c.id}/regenerate`, { stream: true }, reply, null);
  } catch (err) {
    state.messages[state.messages.length - 1] = last;
    reply.node.replaceWith(messageNode(last));
    showError(`Could not regenerate: ${describe(err)}`, () => regenerate());
    return;
  }
  finishReply(reply, c.id);
}

// Asks the server to stop (it keeps the partial reply), then ends our read
// if the server has not closed the stream by itself within two seconds.
async function stopReply() {
  const s = state.streaming;
  if (!s || s.stopping) return;
  s.stopping = true;
  el.stop.disabled = true;
  try {
    await api('POST', `/api/v1/conversations/${s.convId}/stop`);
  } catch { /* aborting below stops it too: the server sees us leave */ }
  setTimeout(() => { if (state.streaming === s) s.controller.abort(); }, 2000);
  el.stop.disabled = false;
}

// --- composer and keyboard -----------------------------------------------------

function autosize() {
  el.input.style.height = 'auto';
  el.input.style.height = `${Math.min(el.input.scrollHeight, 240)}px`;
}
el.input.addEventListener('input', autosize);
el.input.addEventListener('keydown', (ev) => {
  if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    el.composer.requestSubmit();
  }
});
el.composer.addEventListener('submit', (ev) => {
  ev.preventDefault();
  send(el.input.value);
});
el.stop.addEventListener('click', stopReply);
el.newChat.addEventListener('click', () => newChat({ push: true }));
for (const b of document.querySelectorAll('.suggestion'))
  b.addEventListener('click', () => send(b.textContent));
$('#logout').addEventListener('click', logout);

document.addEventListener('keydown', (ev) => {
  const mod = ev.ctrlKey || ev.metaKey;
  if (mod && !ev.shiftKey && ev.key.toLowerCase() === 'k') {
    ev.preventDefault();
    if (narrow()) setDrawer(true);
    el.search.focus();
    el.search.select();
  } else if (mod && ev.shiftKey && ev.key.toLowerCase() === 'o') {
    ev.preventDefault();
    newChat({ push: true });
  } else if (ev.key === 'Escape') {
    if (state.streaming) { ev.preventDefault(); stopReply(); }
    else if (!el.exportMenu.hidden) { el.exportMenu.hidden = true; el.exportBtn.focus(); }
    else if (document.body.classList.contains('drawer-open')) setDrawer(false);
  }
});

// --- start ------------------------------------------------------------------------

showHeader();
loadModels();
loadConvs();
{
  const params = new URLSearchParams(location.search);
  const id = parseInt(params.get('c') || '', 10);
  const m = parseInt(params.get('m') || '', 10);
  if (id > 0) withMarkdown().catch(() => {});   // fetched alongside the messages
  if (id > 0) openConversation(id, { messageId: m > 0 ? m : null });
  else { renderMessages(); el.input.focus(); }
}
