// admin.js — /admin (the server lets only administrators in): users with
// activate/deactivate and the admin role, and the built-in bot's knowledge
// base (upload a Markdown or text file, list, delete).
import { api, logout } from './api.js';
import { $, clearErrors, confirmDialog, formatDate, h, icon, setBusy, showErrors } from './ui.js';

$('#logout').addEventListener('click', logout);
document.querySelector('[data-nav="admin"]').setAttribute('aria-current', 'page');
const me = document.body.dataset.email;

// --- users ------------------------------------------------------------------------
const usersBody = $('#users-body');
const usersState = $('#users-state');
const usersError = $('#users-error');
let usersCursor = null;

function switchCell(label, checked, disabled, onchange) {
  const input = h('input', { type: 'checkbox', role: 'switch', 'aria-label': label, checked, disabled });
  input.addEventListener('change', () => onchange(input));
  return h('td', {}, h('label', { class: 'switch' }, input, h('span', { class: 'slider', 'aria-hidden': 'true' })));
}

function userRow(u) {
  const roles = Array.isArray(u.roles) ? u.roles : null;
  const self = u.email === me;
  const update = async (input, body, what) => {
    usersError.hidden = true;
    input.disabled = true;
    try {
      const fresh = await api('PATCH', `/api/v1/admin/users/${u.id}`, body);
      row.replaceWith(userRow({ ...u, ...fresh }));
    } catch (err) {
      input.checked = !input.checked;
      usersError.textContent = `Could not ${what} ${u.email}: ${err.message}`;
      usersError.hidden = false;
    } finally {
      input.disabled = self;
    }
  };
  const row = h('tr', { 'data-id': u.id },
    h('td', {}, u.email, self ? h('span', { class: 'badge' }, 'you') : null),
    h('td', {}, formatDate(u.created_at)),
    switchCell(`${u.email} is active`, u.active, self, (input) =>
      update(input, { active: input.checked }, input.checked ? 'activate' : 'deactivate')),
    switchCell(`${u.email} is an administrator`, Boolean(roles && roles.includes('admin')), self, (input) =>
      update(input, { roles: input.checked ? ['admin', 'user'] : ['user'] }, 'change the roles of')));
  return row;
}

async function loadUsers(more = false) {
  usersState.hidden = true;
  try {
    const q = more && usersCursor ? `&cursor=${encodeURIComponent(usersCursor)}` : '';
    const page = await api('GET', `/api/v1/admin/users?limit=100${q}`);
    const rows = page.items.map(userRow);
    if (more) usersBody.append(...rows); else usersBody.replaceChildren(...rows);
    usersCursor = page.next_cursor;
    $('#users-more').hidden = !usersCursor;
  } catch (err) {
    usersState.replaceChildren(`Could not load users: ${err.message} `,
      h('button', { type: 'button', class: 'link-btn', onclick: () => loadUsers(more) }, 'Retry'));
    usersState.hidden = false;
  }
}
$('#users-more').addEventListener('click', () => loadUsers(true));

// --- documents ----------------------------------------------------------------------
const docsBody = $('#docs-body');
const docsState = $('#docs-state');

function size(bytes) {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

function docRow(d) {
  const del = h('button', { type: 'button', class: 'btn small ghost danger-text', 'aria-label': `Delete ${d.title}` }, icon('trash-2'), h('span', {}, 'Delete'));
  del.addEventListener('click', async () => {
    if (!(await confirmDialog('Delete this document?', `The bot will stop answering from “${d.title}”.`, 'Delete'))) return;
    try {
      await api('DELETE', `/api/v1/admin/documents/${d.id}`);
      loadDocs();
    } catch (err) {
      docsState.textContent = `Could not delete: ${err.message}`;
      docsState.hidden = false;
    }
  });
  return h('tr', { 'data-id': d.id }, h('td', {}, d.title), h('td', {}, size(d.bytes || 0)),
    h('td', {}, String(d.passages ?? '—')), h('td', {}, formatDate(d.created_at)), h('td', { class: 'actions' }, del));
}

async function loadDocs() {
  docsState.hidden = true;
  try {
    const items = [];
    let cursor = null;
    do {
      const page = await api('GET', `/api/v1/admin/documents?limit=200${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      items.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor);
    docsBody.replaceChildren(...items.map(docRow));
    if (!items.length) { docsState.textContent = 'No documents yet.'; docsState.hidden = false; }
  } catch (err) {
    docsState.replaceChildren(`Could not load documents: ${err.message} `,
      h('button', { type: 'button', class: 'link-btn', onclick: loadDocs }, 'Retry'));
    docsState.hidden = false;
  }
}

$('#doc-file').addEventListener('change', async () => {
  const f = $('#doc-file').files[0];
  if (!f) return;
  $('#doc-content').value = await f.text();
  if (!$('#doc-title').value) $('#doc-title').value = f.name.replace(/\.(md|markdown|txt)$/i, '');
});

const docForm = $('#doc-form');
docForm.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearErrors(docForm);
  const title = $('#doc-title').value.trim();
  const content = $('#doc-content').value;
  const local = {};
  if (!title) local.title = 'Give the document a title.';
  if (!content.trim()) local.content = 'Choose a file or paste the text.';
  if (Object.keys(local).length) { showErrors({ fields: local }, { prefix: 'doc-' }); return; }
  const button = $('#doc-upload');
  setBusy(button, true);
  try {
    await api('POST', '/api/v1/admin/documents', { title, content });
    docForm.reset();
    loadDocs();
  } catch (err) {
    showErrors(err, { prefix: 'doc-', formError: $('#doc-form-error') });
  } finally {
    setBusy(button, false);
  }
});

loadUsers();
loadDocs();
