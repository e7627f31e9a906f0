// api.js — every call to the REST API goes through here: JSON in and out,
// the CSRF token on unsafe requests, problem+json turned into ApiError,
// a signed-out answer sent to the login page, and the connection-lost
// banner driven by what fetch sees. stream() reads an SSE reply from a
// POST (EventSource cannot POST) with fetch + ReadableStream.

export class ApiError extends Error {
  constructor(status, problem, message) {
    super(message || (problem && (problem.detail || problem.title)) || `HTTP ${status}`);
    this.status = status;              // 0 when the server could not be reached
    this.problem = problem || null;
    this.fields = (problem && problem.errors) || {};
    this.retryAfter = 0;
  }
}

function csrfToken() {
  const m = document.querySelector('meta[name="csrf-token"]');
  return m ? m.content : '';
}

// --- connection state: a banner while the server cannot be reached ---------
const listeners = new Set();
let lost = false;
let probe = null;

function setLost(value) {
  if (lost === value) return;
  lost = value;
  const banner = document.getElementById('offline-banner');
  if (banner) banner.hidden = !value;
  for (const f of listeners) f(value);
  if (value && !probe) {
    probe = setInterval(async () => {
      try {
        const r = await fetch('/api/v1/health', { cache: 'no-store' });
        if (r.ok) setLost(false);
      } catch { /* still down */ }
    }, 2000);
  } else if (!value && probe) {
    clearInterval(probe);
    probe = null;
  }
}

export const connection = {
  get lost() { return lost; },
  onChange(f) { listeners.add(f); },
  markLost() { setLost(true); },
};
window.addEventListener('offline', () => setLost(true));
window.addEventListener('online', () => fetch('/api/v1/health', { cache: 'no-store' })
  .then((r) => setLost(!r.ok)).catch(() => setLost(true)));

function loginRedirect() {
  const here = location.pathname + location.search;
  location.assign(here === '/' ? '/login' : '/login?next=' + encodeURIComponent(here));
}

async function problemOf(resp) {
  let doc = null;
  try { doc = await resp.json(); } catch { /* not JSON */ }
  const err = new ApiError(resp.status, doc);
  err.retryAfter = parseInt(resp.headers.get('Retry-After') || '0', 10) || 0;
  return err;
}

async function send(method, path, body, { signal, accept = 'application/json', redirect401 = true, cache = 'no-store' } = {}) {
  const headers = { Accept: accept };
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  if (method !== 'GET' && method !== 'HEAD') headers['X-CSRF-Token'] = csrfToken();
  let resp;
  try {
    resp = await fetch(path, {
      method, headers, signal, credentials: 'same-origin', cache,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    setLost(true);
    throw new ApiError(0, null, 'Cannot reach the server. Check your connection.');
  }
  setLost(false);
  if (resp.status === 401 && redirect401) loginRedirect();
  if (!resp.ok) throw await problemOf(resp);
  return resp;
}

// JSON answer, or null for 204.
export async function api(method, path, body, opts = {}) {
  const resp = await send(method, path, body, opts);
  if (resp.status === 204) return null;
  const type = resp.headers.get('Content-Type') || '';
  return type.includes('json') ? resp.json() : resp.text();
}

// Splits an SSE byte stream into events, across arbitrary chunk boundaries.
export function sseParser(onEvent) {
  let buf = '';
  let event = '';
  let data = [];
  function line(l) {
    if (l === '') {
      if (data.length) onEvent(event || 'message', data.join('\n'));
      event = '';
      data = [];
    } else if (l[0] === ':') {
      // a comment (keep-alive)
    } else {
      const i = l.indexOf(':');
      const field = i < 0 ? l : l.slice(0, i);
      let value = i < 0 ? '' : l.slice(i + 1);
      if (value[0] === ' ') value = value.slice(1);
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
  }
  return {
    push(text) {
      buf += text;
      let n;
      while ((n = buf.search(/\r\n|\r|\n/)) >= 0) {
        const len = buf[n] === '\r' && buf[n + 1] === '\n' ? 2 : 1;
        if (buf[n] === '\r' && n + 1 === buf.length) break; // a \r\n may be split
        line(buf.slice(0, n));
        buf = buf.slice(n + len);
      }
    },
    end() { if (buf) line(buf); buf = ''; line(''); },
  };
}

// POSTs body and calls onEvent(name, parsedData) for every SSE event. A
// server that answers JSON instead (201 {user_message, reply}) is mapped
// onto the same events, so callers handle one shape.
export async function stream(path, body, { signal, onEvent }) {
  const resp = await send('POST', path, body, { signal, accept: 'text/event-stream' });
  const type = resp.headers.get('Content-Type') || '';
  if (!type.startsWith('text/event-stream')) {
    const doc = await resp.json();
    if (doc.user_message) onEvent('user_message', doc.user_message);
    onEvent('done', { message: doc.reply || doc });
    return;
  }
  const parser = sseParser((name, data) => {
    let parsed = null;
    try { parsed = JSON.parse(data); } catch { parsed = { content: data }; }
    onEvent(name, parsed);
  });
  const reader = resp.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      parser.push(decoder.decode(value, { stream: true }));
    }
    parser.push(decoder.decode());
    parser.end();
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    setLost(true);
    throw new ApiError(0, null, 'The connection dropped during the reply.');
  }
}

export async function logout() {
  try { await api('POST', '/api/v1/auth/logout', undefined, { redirect401: false }); } catch { /* gone anyway */ }
  location.assign('/login');
}
