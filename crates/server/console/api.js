// Shared helpers of the xlrs operator console: where the server is (`base`), the signed-in
// credential, API calls, DOM building, alerts and formatting. No framework, no build step.

/** Everything before `/console/` in the page's path: the server's path prefix ('' at the root). */
function baseOf(pathname) {
  const at = pathname.lastIndexOf('/console/');
  if (at >= 0) return pathname.slice(0, at);
  const bare = pathname.replace(/\/console\/?$/, '');
  return bare === pathname ? '' : bare;
}

export const base = baseOf(location.pathname);

const AUTH_KEY = 'xlrs.console.auth';

/** The signed-in credential ({key, secret}) or null; kept in sessionStorage only. */
export function credential() {
  try {
    const saved = JSON.parse(sessionStorage.getItem(AUTH_KEY) || 'null');
    return saved && typeof saved.key === 'string' ? saved : null;
  } catch {
    return null;
  }
}

export function setCredential(value) {
  if (value) sessionStorage.setItem(AUTH_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(AUTH_KEY);
}

function basic({ key, secret }) {
  const bytes = new TextEncoder().encode(`${key}:${secret}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return `Basic ${btoa(binary)}`;
}

/** An error the server (or the network) answered, with the message to show. */
export class ApiError extends Error {
  constructor(status, message, body) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** Headers of every console request to `path` (a path under base, like `/xAPI/statements`). */
function headersFor(path, extra = {}, auth = credential()) {
  const headers = { 'X-Xlrs-Console': '1', ...extra };
  if (auth) headers.Authorization = basic(auth);
  if (path.startsWith('/xAPI/')) headers['X-Experience-API-Version'] = '2.0.0';
  return headers;
}

/** Listeners told when the server answers 401 to the signed-in credential. */
const unauthorized = new Set();
export function onUnauthorized(listener) {
  unauthorized.add(listener);
}

/**
 * Calls the API at `path` (relative to base). Options: method, json (a body sent as JSON),
 * body (sent as is), signal, auth (another credential), raw (answer the Response itself).
 * Answers the parsed JSON (or text, or null for 204); throws ApiError for any non-2xx answer.
 */
export async function api(path, options = {}) {
  const { method = 'GET', json, body, signal, auth, raw = false, quiet401 = false } = options;
  const extra = {};
  let payload = body;
  if (json !== undefined) {
    extra['Content-Type'] = 'application/json';
    payload = JSON.stringify(json);
  }
  let response;
  try {
    response = await fetch(base + path, {
      method,
      headers: headersFor(path, extra, auth === undefined ? credential() : auth),
      body: payload,
      signal,
      cache: 'no-store',
    });
  } catch (e) {
    if (e.name === 'AbortError') throw e;
    throw new ApiError(0, `The server could not be reached: ${e.message}`);
  }
  if (raw && response.ok) return response;
  const text = response.status === 204 ? '' : await response.text();
  let data = text;
  if (text && (response.headers.get('content-type') || '').includes('json')) {
    try {
      data = JSON.parse(text);
    } catch {
      data = text;
    }
  }
  if (!response.ok) {
    const message =
      (data && typeof data === 'object' && (data.message || data.error)) ||
      (typeof data === 'string' && data.trim()) ||
      `${response.status} ${response.statusText}`;
    if (response.status === 401 && !quiet401 && auth === undefined) {
      for (const listener of unauthorized) listener(message);
    }
    throw new ApiError(response.status, String(message), data);
  }
  return text === '' ? null : data;
}

/**
 * Builds an element: h('button', {type: 'button', onclick, 'data-testid': 'x'}, 'text', child).
 * Strings become text nodes (never HTML); null/false children are skipped; arrays are flattened.
 */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === null || value === undefined || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      node.addEventListener(name.slice(2), value);
    } else if (name === 'class') {
      node.className = value;
    } else if (name === 'value' || name === 'checked' || name === 'disabled' || name === 'selected') {
      node[name] = value;
    } else {
      node.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(node, children);
  return node;
}

function append(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) append(node, child);
    else node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces the children of `node`. */
export function fill(node, ...children) {
  node.replaceChildren();
  append(node, children);
  return node;
}

/** An alert area (role="alert") and functions to show an error or clear it. */
export function alertBox(testid = 'error') {
  const box = h('div', { class: 'alert', role: 'alert', 'data-testid': testid, hidden: true });
  return {
    node: box,
    show(error) {
      const message = error instanceof Error ? error.message : String(error);
      box.textContent = message;
      box.hidden = false;
    },
    clear() {
      box.textContent = '';
      box.hidden = true;
    },
  };
}

/** A polite status line (role="status"). */
export function statusLine(testid) {
  return h('p', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-testid': testid });
}

/** Asks a yes/no question in a modal dialog; resolves true when confirmed. */
export function confirmDialog(message, { confirm = 'Confirm', danger = true } = {}) {
  return new Promise((resolve) => {
    const dialog = h(
      'dialog',
      { class: 'confirm', 'data-testid': 'confirm-dialog', 'aria-labelledby': 'confirm-text' },
      h('form', { method: 'dialog' },
        h('p', { id: 'confirm-text' }, message),
        h('div', { class: 'actions' },
          h('button', { value: 'cancel', 'data-testid': 'confirm-cancel' }, 'Cancel'),
          h('button', { value: 'ok', class: danger ? 'danger' : 'primary', 'data-testid': 'confirm-ok' }, confirm),
        ),
      ),
    );
    dialog.addEventListener('close', () => {
      resolve(dialog.returnValue === 'ok');
      dialog.remove();
    });
    document.body.append(dialog);
    dialog.showModal();
    dialog.querySelector('[value=cancel]').focus();
  });
}

/** Pretty JSON. */
export function pretty(value) {
  return JSON.stringify(value, null, 2);
}

/** A number with thousands separators and at most `digits` decimals. */
export function num(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  return Number(value).toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: 0 });
}

/** A duration in seconds as "3 d 4 h", "5 h 2 min", "42 s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds)) return '–';
  const s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  const hr = Math.floor((s % 86400) / 3600);
  const m = Math.floor((s % 3600) / 60);
  if (d) return `${d} d ${hr} h`;
  if (hr) return `${hr} h ${m} min`;
  if (m) return `${m} min ${s % 60} s`;
  return `${s} s`;
}

/** A timestamp as local date and time (the ISO text in a title attribute). */
export function when(iso) {
  if (!iso) return h('span', {}, '–');
  const date = new Date(iso);
  const today = new Date().toDateString() === date.toDateString();
  const text = Number.isNaN(date.getTime()) ? String(iso) : today ? date.toLocaleTimeString() : date.toLocaleString();
  return h('time', { datetime: iso, title: iso }, text);
}

/** The first of `paths` (dotted, like 'statements.stored') defined in `object`. */
export function pick(object, ...paths) {
  for (const path of paths) {
    let value = object;
    for (const part of path.split('.')) {
      if (value === null || value === undefined) break;
      value = value[part];
    }
    if (value !== undefined && value !== null) return value;
  }
  return undefined;
}

/** How an Agent or Group is shown: its name, else its identifier. */
export function agentText(agent) {
  if (!agent || typeof agent !== 'object') return '–';
  const ifi =
    agent.mbox ||
    agent.mbox_sha1sum ||
    agent.openid ||
    (agent.account ? `${agent.account.name} @ ${agent.account.homePage}` : null);
  if (agent.name && ifi) return `${agent.name} (${ifi.replace(/^mailto:/, '')})`;
  if (agent.name) return agent.name;
  if (ifi) return ifi.replace(/^mailto:/, '');
  if (agent.objectType === 'Group') return `Group of ${(agent.member || []).length}`;
  return '–';
}

/** A language map's text (en-US, en, else the first). */
export function display(map) {
  if (!map || typeof map !== 'object') return '';
  return map['en-US'] || map.en || Object.values(map)[0] || '';
}

/** A labelled form field; `input` is the control, `hint` an optional description. */
export function field(label, input, hint) {
  const id = input.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  input.id = id;
  const hintId = hint ? `${id}-hint` : null;
  if (hintId) input.setAttribute('aria-describedby', hintId);
  return h('div', { class: 'field' },
    h('label', { for: id }, label),
    input,
    hint ? h('small', { id: hintId, class: 'hint' }, hint) : null,
  );
}

/** A checkbox with its label. */
export function checkbox(label, attrs = {}) {
  const input = h('input', { type: 'checkbox', ...attrs });
  return h('label', { class: 'check' }, input, ' ', label);
}

/** Parses JSON text typed by the user; throws an Error naming the field. */
export function parseJson(text, what) {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new Error(`${what} is not valid JSON: ${e.message}`);
  }
}

/** Copies text to the clipboard (with a fallback for pages that are not secure contexts). */
export async function copyText(text) {
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text);
    return;
  }
  const area = h('textarea', { readonly: true, class: 'offscreen' });
  area.value = text;
  document.body.append(area);
  area.select();
  document.execCommand('copy');
  area.remove();
}

/** Whether the signed-in credential holds the admin scope (set by app.js at sign-in). */
export const session = { admin: false, status: null };
