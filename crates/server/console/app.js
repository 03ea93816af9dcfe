// The console's shell: sign-in and sign-out, the theme, the header (version, uptime), the
// responsive navigation, and the hash router that mounts one page at a time.

import {
  api, ApiError, credential, setCredential, onUnauthorized, session, fill, h, duration, pick,
} from './api.js';
import * as live from './live.js';
import * as statements from './statements.js';
import * as tail from './tail.js';
import * as plugins from './plugins.js';
import * as admin from './admin.js';
import * as erasure from './erasure.js';

const routes = {
  '#/live': { title: 'Live', mount: live.mount },
  '#/statements': { title: 'Statements', mount: statements.mountBrowser },
  '#/tail': { title: 'Live tail', mount: tail.mountTail },
  '#/refusals': { title: 'Refused requests', mount: tail.mountRefusals },
  '#/plugins': { title: 'Plugins', mount: plugins.mount, admin: true },
  '#/credentials': { title: 'Credentials', mount: admin.mountCredentials, admin: true },
  '#/erasure': { title: 'Erasure', mount: erasure.mount, admin: true },
  '#/retention': { title: 'Retention', mount: admin.mountRetention, admin: true },
  '#/forwarding': { title: 'Forwarding', mount: admin.mountForwarding, admin: true },
};
const DEFAULT_ROUTE = '#/live';

const $ = (id) => document.getElementById(id);
let unmount = null;
let headerTimer = null;
let clock = null; // {version, started: ms since epoch, offset}

// ----- theme -------------------------------------------------------------------------------

/** The theme in force: theme.js sets it before the first paint. */
function currentTheme() {
  return document.documentElement.dataset.theme === 'dark' ? 'dark' : 'light';
}

function showTheme() {
  const dark = currentTheme() === 'dark';
  const button = $('theme-toggle');
  button.setAttribute('aria-pressed', String(dark));
  button.textContent = dark ? 'Light mode' : 'Dark mode';
}

function toggleTheme() {
  const next = currentTheme() === 'dark' ? 'light' : 'dark';
  document.documentElement.dataset.theme = next;
  try {
    localStorage.setItem('xlrs.console.theme', next);
  } catch {
    /* private mode: the choice lasts this page only */
  }
  showTheme();
}

// ----- header ------------------------------------------------------------------------------

async function refreshHeader() {
  try {
    const status = session.admin ? await api('/admin/status') : await api('/console/api/live');
    if (session.admin) session.status = status;
    const uptime = Number(pick(status, 'uptime_seconds', 'uptime'));
    const version = pick(status, 'version', 'server.version');
    clock = {
      version,
      started: Number.isFinite(uptime) ? Date.now() - uptime * 1000 : null,
    };
    showHeader();
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 401) $('server-info').textContent = '';
  }
}

function showHeader() {
  if (!clock) return;
  const parts = [];
  if (clock.version) parts.push(`xlrs ${clock.version}`);
  if (clock.started) parts.push(`up ${duration((Date.now() - clock.started) / 1000)}`);
  $('server-info').textContent = parts.join(' · ');
}

// ----- sign-in -----------------------------------------------------------------------------

/** Checks a credential: whether it signs in at all, and whether it holds the admin scope. */
async function check(auth) {
  try {
    session.status = await api('/admin/status', { auth });
    return { admin: true };
  } catch (e) {
    if (e instanceof ApiError && e.status === 403) return { admin: false };
    throw e;
  }
}

async function signIn(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const error = $('signin-error');
  error.hidden = true;
  const auth = { key: form.key.value.trim(), secret: form.secret.value };
  const submit = form.querySelector('[type=submit]');
  submit.disabled = true;
  try {
    const { admin: isAdmin } = await check(auth);
    setCredential(auth);
    session.admin = isAdmin;
    form.secret.value = '';
    enter();
  } catch (e) {
    error.textContent = e.status === 401 ? `Sign-in refused: ${e.message}` : e.message;
    error.hidden = false;
    form.secret.focus();
  } finally {
    submit.disabled = false;
  }
}

function signOut(message) {
  setCredential(null);
  session.admin = false;
  session.status = null;
  clock = null;
  if (unmount) unmount();
  unmount = null;
  clearInterval(headerTimer);
  $('page').hidden = true;
  fill($('page'));
  $('nav').hidden = true;
  $('menu-toggle').hidden = true;
  $('sign-out').hidden = true;
  $('who').textContent = '';
  $('server-info').textContent = '';
  $('signin').hidden = false;
  const error = $('signin-error');
  if (typeof message === 'string' && message) {
    error.textContent = message;
    error.hidden = false;
  } else {
    error.hidden = true;
  }
  $('signin-key').focus();
}

function enter() {
  const auth = credential();
  $('signin').hidden = true;
  $('page').hidden = false;
  $('nav').hidden = false;
  $('menu-toggle').hidden = false;
  $('sign-out').hidden = false;
  $('who').textContent = auth.key;
  $('who').title = session.admin ? 'admin scope' : 'no admin scope';
  for (const link of document.querySelectorAll('#nav [data-admin]')) {
    if (session.admin) link.removeAttribute('aria-disabled');
    else link.setAttribute('aria-disabled', 'true');
  }
  $('admin-note').hidden = session.admin;
  refreshHeader();
  clearInterval(headerTimer);
  headerTimer = setInterval(() => {
    if (document.hidden) return;
    showHeader();
  }, 1000);
  if (!routes[location.hash]) location.replace(DEFAULT_ROUTE);
  else route();
}

// ----- navigation --------------------------------------------------------------------------

function setMenu(open) {
  document.body.classList.toggle('nav-open', open);
  $('menu-toggle').setAttribute('aria-expanded', String(open));
}

function route() {
  if (!credential()) return;
  const hash = routes[location.hash] ? location.hash : DEFAULT_ROUTE;
  if (hash !== location.hash) {
    location.replace(hash);
    return;
  }
  const page = routes[hash];
  if (unmount) unmount();
  unmount = null;
  setMenu(false);
  for (const link of document.querySelectorAll('#nav a')) {
    if (link.getAttribute('href') === hash) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  document.title = `${page.title} · xlrs console`;
  const root = $('page');
  root.dataset.route = hash.slice(2);
  const heading = h('h1', { tabindex: '-1', 'data-testid': 'page-title' }, page.title);
  if (page.admin && !session.admin) {
    fill(root, heading, h('div', { class: 'alert', role: 'alert', 'data-testid': 'admin-required' },
      'This page needs a credential with the admin scope: GET /admin/status answered 403 Forbidden for ',
      h('code', {}, credential().key), '.'));
    return;
  }
  const body = h('div', { class: 'page-body' });
  fill(root, heading, body);
  try {
    unmount = page.mount(body) || null;
  } catch (e) {
    fill(body, h('div', { class: 'alert', role: 'alert' }, e.message));
  }
  if (navigated) heading.focus({ preventScroll: true });
  navigated = true;
}
let navigated = false;

// ----- start -------------------------------------------------------------------------------

async function start() {
  showTheme();
  matchMedia('(prefers-color-scheme: dark)').addEventListener('change', showTheme);
  $('theme-toggle').addEventListener('click', toggleTheme);
  $('signin-form').addEventListener('submit', signIn);
  $('sign-out').addEventListener('click', () => signOut());
  $('menu-toggle').addEventListener('click', () =>
    setMenu(!document.body.classList.contains('nav-open')));
  document.addEventListener('keydown', (e) => {
    if (e.key === 'Escape' && document.body.classList.contains('nav-open')) {
      setMenu(false);
      $('menu-toggle').focus();
    }
  });
  window.addEventListener('hashchange', route);
  onUnauthorized((message) => signOut(`Signed out: ${message}`));

  const saved = credential();
  if (!saved) {
    $('signin-key').focus();
    return;
  }
  try {
    session.admin = (await check(saved)).admin;
    enter();
  } catch (e) {
    signOut(e.message);
  }
}

start();
