// auth.js — /login and /register: field errors from the server's problem
// answers, the password rules as the user types, the throttling message
// with its countdown, and the way back to where the user was going
// (data-next, already checked by the server to be a local path).
import { api } from './api.js';
import { $, clearErrors, setBusy, showErrors, wirePasswordReveal } from './ui.js';

const body = document.body;
const page = body.dataset.page;
const form = $('#auth-form');
const formError = $('#form-error');
const submit = $('#submit');

// Only a path on this site, never "//host" (the server checks it too).
function safeNext(n) {
  return typeof n === 'string' && n.startsWith('/') && !n.startsWith('//') && !n.includes('\\') ? n : '/';
}
const next = safeNext(body.dataset.next);
for (const a of document.querySelectorAll('#switch-link'))
  if (next !== '/') a.href += '?next=' + encodeURIComponent(next);

wirePasswordReveal();

function chars(s) { return Array.from(s.normalize('NFKD')).length; }

const minPw = parseInt(body.dataset.minPassword || '8', 10);
const lengthRule = $('#rule-length');
if (lengthRule) {
  $('#password').addEventListener('input', () => {
    const n = chars($('#password').value);
    lengthRule.classList.toggle('ok', n >= minPw && n <= 128);
  });
}

let countdown = 0;
let locked = false;
function throttled(seconds) {
  clearInterval(countdown);
  locked = true;
  let left = Math.max(1, seconds);
  const tick = () => {
    formError.hidden = false;
    formError.textContent = `Too many attempts. Try again in ${left} second${left === 1 ? '' : 's'}.`;
    submit.disabled = left > 0;
    if (left-- <= 0) {
      clearInterval(countdown);
      locked = false;
      formError.textContent = 'You can try again now.';
      submit.disabled = false;
    }
  };
  tick();
  countdown = setInterval(tick, 1000);
}

function validate(email, password) {
  const errors = {};
  if (!email) errors.email = 'Enter your email address.';
  else if (!/^[^\s@]+@[^\s@]+\.[^\s@]+$/.test(email)) errors.email = 'Enter an address like name@example.com.';
  if (!password) errors.password = 'Enter a password.';
  if (page === 'register') {
    const n = chars(password);
    if (password && (n < minPw || n > 128)) errors.password = `Use ${minPw} to 128 characters.`;
    if (password !== $('#confirm').value) errors.confirm = 'The passwords differ.';
  }
  return errors;
}

if (page === 'login') {
  const registered = sessionStorage.getItem('registered');
  if (registered) {
    sessionStorage.removeItem('registered');
    $('#notice').textContent = 'Account created. Sign in to start chatting.';
    $('#email').value = registered;
    $('#password').focus();
  } else {
    $('#email').focus();
  }
} else {
  $('#email').focus();
}

form.addEventListener('submit', async (ev) => {
  ev.preventDefault();
  clearErrors(form);
  const email = $('#email').value.trim();
  const password = $('#password').value;
  const local = validate(email, password);
  if (Object.keys(local).length) {
    showErrors({ fields: local });
    document.getElementById(`${Object.keys(local)[0]}`).focus();
    return;
  }
  setBusy(submit, true);
  try {
    if (page === 'register') {
      await api('POST', '/api/v1/auth/register', { email, password }, { redirect401: false });
      sessionStorage.setItem('registered', email);
      location.assign('/login' + (next !== '/' ? '?next=' + encodeURIComponent(next) : ''));
      return;
    }
    await api('POST', '/api/v1/auth/login', { email, password, remember: $('#remember').checked },
      { redirect401: false });
    location.assign(next);
    return;
  } catch (err) {
    if (err.status === 429) throttled(err.retryAfter || 60);
    else if (err.status === 401) showErrors({ message: 'That email and password do not match an active account.' }, { formError });
    else showErrors(err, { formError });
    const firstBad = form.querySelector('[aria-invalid="true"]');
    if (firstBad) firstBad.focus();
  } finally {
    submit.classList.remove('busy');
    submit.disabled = locked;
  }
});
