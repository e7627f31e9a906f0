// settings.js — /settings: theme (light, dark, system; kept in this
// browser), password change, and personal API tokens (create with the
// secret shown once and a copy button, list, revoke).
import { api, logout } from './api.js';
import { $, clearErrors, confirmDialog, copyText, flashCopied, formatDate, h, icon, setBusy, showErrors } from './ui.js';

$('#logout').addEventListener('click', logout);
document.querySelector('[data-nav="settings"]').setAttribute('aria-current', 'page');

// --- theme ----------------------------------------------------------------------
function currentTheme() {
  try { return localStorage.getItem('theme') || 'system'; } catch { return 'system'; }
}
function applyTheme(t) {
  if (t === 'light' || t === 'dark') document.documentElement.setAttribute('data-theme', t);
  else document.documentElement.removeAttribute('data-theme');
  try {
    if (t === 'system') localStorage.removeItem('theme');
    else localStorage.setItem('theme', t);
  } catch { /* storage off: this page only */ }
}
for (const r of document.querySelectorAll('input[name="theme"]')) {
  r.checked = r.value === currentTheme();
  r.addEventListener('change', () => applyTheme(r.value));
}

// --- password ---------------------------------------------------------------------
const pwForm = $('#password-form');
const minPw = parseInt(document.body.dataset.minPassword || '8', 10);
pwForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearErrors(pwForm);
  $('#password-done').hidden = true;
  const current_password = $('#current_password').value;
  const new_password = $('#new_password').value;
  const local = {};
  if (!current_password) local.current_password = 'Enter your current password.';
  const n = Array.from(new_password.normalize('NFKD')).length;
  if (n < minPw || n > 128) local.new_password = `Use ${minPw} to 128 characters.`;
  if (new_password !== $('#confirm_password').value) local.confirm_password = 'The passwords differ.';
  if (Object.keys(local).length) { showErrors({ fields: local }); return; }
  const button = $('#password-submit');
  setBusy(button, true);
  try {
    await api('POST', '/api/v1/auth/password', { current_password, new_password });
    pwForm.reset();
    $('#password-done').hidden = false;
    loadTokens();               // they were all revoked
  } catch (err) {
    if (err.status === 429) err.message = `Too many attempts. Try again in ${err.retryAfter || 60} seconds.`;
    showErrors(err, { formError: $('#password-form-error') });
  } finally {
    setBusy(button, false);
  }
});

// --- tokens -------------------------------------------------------------------------
const tokensBody = $('#tokens-body');
const tokensState = $('#tokens-state');

function tokenRow(t) {
  const revoke = h('button', { type: 'button', class: 'btn small ghost danger-text', 'aria-label': `Revoke ${t.name}` }, icon('trash-2'), h('span', {}, 'Revoke'));
  revoke.addEventListener('click', async () => {
    if (!(await confirmDialog('Revoke this token?', `Programs using “${t.name}” will stop working at once.`, 'Revoke'))) return;
    try {
      await api('DELETE', `/api/v1/tokens/${t.id}`);
      loadTokens();
    } catch (err) {
      tokensState.textContent = `Could not revoke: ${err.message}`;
      tokensState.hidden = false;
    }
  });
  return h('tr', { 'data-id': t.id },
    h('td', {}, t.name), h('td', {}, formatDate(t.created_at)),
    h('td', {}, t.expires_at ? formatDate(t.expires_at) : 'never'),
    h('td', {}, t.last_used_at ? formatDate(t.last_used_at) : 'never'), h('td', { class: 'actions' }, revoke));
}

async function loadTokens() {
  tokensState.hidden = true;
  try {
    const items = [];
    let cursor = null;
    do {
      const page = await api('GET', `/api/v1/tokens?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    tokensBody.replaceChildren(...items.map(tokenRow));
    if (!items.length) { tokensState.textContent = 'No tokens yet.'; tokensState.hidden = false; }
  } catch (err) {
    tokensState.replaceChildren(`Could not load your tokens: ${err.message} `,
      h('button', { type: 'button', class: 'link-btn', onclick: loadTokens }, 'Retry'));
    tokensState.hidden = false;
  }
}

const tokenForm = $('#token-form');
tokenForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearErrors(tokenForm);
  const name = $('#token-name').value.trim();
  if (!name) { showErrors({ fields: { name: 'Give the token a name.' } }, { prefix: 'token-' }); return; }
  const body = { name };
  const days = $('#token-expiry').value;
  if (days) body.expires_in_days = parseInt(days, 10);
  const button = $('#token-create');
  setBusy(button, true);
  try {
    const t = await api('POST', '/api/v1/tokens', body);
    $('#token-secret-value').textContent = t.token;
    $('#token-secret').hidden = false;
    $('#token-name').value = '';
    $('#token-copy').focus();
    loadTokens();
  } catch (err) {
    showErrors(err, { prefix: 'token-', fieldMap: { expires_in_days: 'token-expiry' } });
    if (!err.fields || !Object.keys(err.fields).length) {
      $('#token-name-error').textContent = err.message;
    }
  } finally {
    setBusy(button, false);
  }
});
$('#token-copy').addEventListener('click', async (ev) => {
  flashCopied(ev.currentTarget, await copyText($('#token-secret-value').textContent));
});

loadTokens();
