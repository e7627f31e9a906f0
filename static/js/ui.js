// ui.js — small DOM helpers shared by the pages. Text reaches the DOM only
// as text nodes here (h() never parses HTML), icons come from the Lucide
// sprite by name, dialogs and clipboard work the same on every page.

const SVG = 'http://www.w3.org/2000/svg';

export function spriteUrl() {
  return document.body.dataset.sprite || '/static/icons.svg';
}

// <svg class="icon"><use href="/static/icons.svg?v=…#name"/></svg>. Call it
// with a literal name: scripts/assets.sh finds icon('…') calls to build the
// sprite.
export function icon(name) {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('class', 'icon');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  const use = document.createElementNS(SVG, 'use');
  use.setAttribute('href', `${spriteUrl()}#${name}`);
  svg.append(use);
  return svg;
}

// h('button', {class: 'x', onclick: f, 'aria-label': 'Close'}, icon('x'), 'text')
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else if (k === 'text') el.textContent = v;
    else if (v === true) el.setAttribute(k, '');
    else el.setAttribute(k, String(v));
  }
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

export function formatDate(iso) {
  if (!iso) return '—';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '—';
  return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });
}

export function debounce(fn, ms) {
  let t = 0;
  return (...args) => { clearTimeout(t); t = setTimeout(() => fn(...args), ms); };
}

export async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch {
    const ta = h('textarea', { class: 'offscreen', 'aria-hidden': 'true' });
    ta.value = text;
    document.body.append(ta);
    ta.select();
    let ok = false;
    try { ok = document.execCommand('copy'); } catch { ok = false; }
    ta.remove();
    return ok;
  }
}

// A copy button's feedback: the icon turns into a check for a moment.
export function flashCopied(button, ok) {
  const label = button.querySelector('span');
  const before = label ? label.textContent : null;
  button.classList.add(ok ? 'copied' : 'copy-failed');
  if (label) label.textContent = ok ? 'Copied' : 'Copy failed';
  setTimeout(() => {
    button.classList.remove('copied', 'copy-failed');
    if (label) label.textContent = before;
  }, 1500);
}

// Resolves true when the user confirms in #confirm-dialog.
export function confirmDialog(title, text, okLabel) {
  const dlg = document.getElementById('confirm-dialog');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  if (okLabel) document.querySelector('#confirm-ok span').textContent = okLabel;
  dlg.returnValue = 'cancel';
  dlg.showModal();
  document.getElementById('confirm-cancel').focus();
  return new Promise((resolve) => {
    dlg.addEventListener('close', () => resolve(dlg.returnValue === 'ok'), { once: true });
  });
}

// Shows a problem's per-field errors next to the fields (ids "<field>-error",
// or prefix + field), and the rest in the form's error box.
export function showErrors(err, { prefix = '', formError, fieldMap = {} } = {}) {
  let shown = false;
  for (const [field, message] of Object.entries(err.fields || {})) {
    const id = fieldMap[field] || prefix + field;
    const p = document.getElementById(`${id}-error`);
    const input = document.getElementById(id);
    if (p) {
      p.textContent = message;
      shown = true;
    }
    if (input) input.setAttribute('aria-invalid', 'true');
  }
  if (formError) {
    formError.textContent = shown ? '' : err.message;
    formError.hidden = shown;
  }
}

export function clearErrors(form) {
  for (const p of form.querySelectorAll('.field-error')) p.textContent = '';
  for (const i of form.querySelectorAll('[aria-invalid]')) i.removeAttribute('aria-invalid');
  for (const e of form.querySelectorAll('.form-error')) { e.hidden = true; e.textContent = ''; }
}

export function setBusy(button, busy) {
  button.disabled = busy;
  button.classList.toggle('busy', busy);
}

// The password fields' show/hide toggles.
export function wirePasswordReveal(root = document) {
  for (const b of root.querySelectorAll('.reveal')) {
    b.addEventListener('click', () => {
      const input = b.parentElement.querySelector('input');
      const show = input.type === 'password';
      input.type = show ? 'text' : 'password';
      b.setAttribute('aria-pressed', String(show));
      b.setAttribute('aria-label', show ? 'Hide password' : 'Show password');
      b.replaceChildren(show ? icon('eye-off') : icon('eye'));
    });
  }
}
