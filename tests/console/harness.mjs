// Shared by the console tests and the screenshot script: starts an xlrs server on a free
// port with a throw-away data directory, launches the system's Chromium, and talks to the
// server over HTTP as an xAPI client would.

import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import http from 'node:http';
import { chromium } from 'playwright-core';

export const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const ADMIN = { key: 'admin', secret: 'console-admin-pw' };
export const PLUGINS = join(repo, 'target', 'plugins');

/**
 * Starts `xlrs serve` (XLRS_BIN, default target/debug/xlrs). Set XLRS_CONSOLE__DIR (or
 * XLRS_CONSOLE_DIR) in the environment to serve the console's files from disk while working
 * on them. Answers {url, stop()}.
 */
export async function startServer(extraEnv = {}) {
  const bin = process.env.XLRS_BIN || join(repo, 'target', 'debug', 'xlrs');
  const dir = await mkdtemp(join(tmpdir(), 'xlrs-console-'));
  const child = spawn(bin, ['serve'], {
    env: {
      ...process.env,
      XLRS_LISTEN: '127.0.0.1:0',
      XLRS_DATA_DIR: dir,
      XLRS_ADMIN_USER: ADMIN.key,
      XLRS_ADMIN_PASSWORD: ADMIN.secret,
      XLRS_LOG: 'warn',
      ...extraEnv,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => {
    stderr += chunk;
    if (stderr.length > 20000) stderr = stderr.slice(-20000);
  });
  const url = await new Promise((ok, fail) => {
    let out = '';
    const timer = setTimeout(() => fail(new Error(`xlrs did not say where it listens within 60 s:\n${stderr}`)), 60000);
    child.stdout.on('data', (chunk) => {
      out += chunk;
      const found = out.match(/xlrs listening on (http:\/\/\S+)/);
      if (found) {
        clearTimeout(timer);
        ok(found[1].replace(/\/$/, ''));
      }
    });
    child.on('error', (e) => {
      clearTimeout(timer);
      fail(e);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      fail(new Error(`xlrs exited (${code}) before listening:\n${stderr}`));
    });
  });
  child.stdout.resume();
  return {
    url,
    stderr: () => stderr,
    async stop() {
      if (child.exitCode === null) {
        const gone = new Promise((ok) => child.once('exit', ok));
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
        await gone;
        clearTimeout(timer);
      }
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * A reverse proxy serving `upstream` under `prefix` (as nginx with `location /lrs/ {
 * proxy_pass http://xlrs/; }` does): the prefix is stripped before the request goes on.
 */
export async function startPrefixProxy(upstream, prefix) {
  const target = new URL(upstream);
  const server = http.createServer((req, res) => {
    if (!req.url.startsWith(`${prefix}/`)) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end(`only ${prefix}/ is served here`);
      return;
    }
    const forward = http.request({
      host: target.hostname,
      port: target.port,
      method: req.method,
      path: req.url.slice(prefix.length),
      headers: req.headers,
    }, (answer) => {
      res.writeHead(answer.statusCode, answer.headers);
      answer.pipe(res);
    });
    forward.on('error', () => res.destroy());
    res.on('close', () => forward.destroy());
    req.pipe(forward);
  });
  await new Promise((ok) => server.listen(0, '127.0.0.1', ok));
  return {
    url: `http://127.0.0.1:${server.address().port}${prefix}`,
    stop: () => new Promise((ok) => {
      server.closeAllConnections();
      server.close(ok);
    }),
  };
}

export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
}

function basic({ key, secret }) {
  return `Basic ${Buffer.from(`${key}:${secret}`).toString('base64')}`;
}

/** An HTTP call as a client (not the console) makes it: {status, body}. */
export async function call(base, path, { method = 'GET', json, form, auth = ADMIN } = {}) {
  const headers = { Authorization: basic(auth) };
  if (path.startsWith('/xAPI/')) headers['X-Experience-API-Version'] = '2.0.0';
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  const sent = json === undefined ? form : JSON.stringify(json);
  const response = await fetch(base + path, { method, headers, body: sent });
  const text = await response.text();
  let body = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: response.status, body };
}

/** Installs plugin `name` on a server through the admin API: component `file` of target/plugins, `manifest`. */
export async function installPlugin(base, name, file, manifest) {
  const form = new FormData();
  form.append('wasm', new Blob([await readFile(join(PLUGINS, file))]), file);
  form.append('manifest', manifest);
  const answer = await call(base, `/admin/plugins/${name}`, { method: 'PUT', form });
  if (answer.status !== 201) throw new Error(`PUT /admin/plugins/${name}: ${answer.status} ${JSON.stringify(answer.body)}`);
}

/** A statement of `actor` (an email address) with `verb` (a word) on `activity` (a path). */
export function statement({ email = 'ada@example.org', name = 'Ada', verb = 'completed', activity = 'courses/algebra-1', extra = {} } = {}) {
  return {
    actor: { mbox: `mailto:${email}`, name },
    verb: { id: `http://adlnet.gov/expapi/verbs/${verb}`, display: { 'en-US': verb } },
    object: { id: `https://lms.example.org/${activity}` },
    ...extra,
  };
}

/** Posts statements (one or an array) as the admin credential; answers their ids. */
export async function post(base, statements, auth = ADMIN) {
  const answer = await call(base, '/xAPI/statements', { method: 'POST', json: statements, auth });
  if (answer.status !== 200) throw new Error(`POST /xAPI/statements: ${answer.status} ${JSON.stringify(answer.body)}`);
  return answer.body;
}

/** Opens the console at `consoleUrl` (…/console/) and signs in. */
export async function signIn(page, consoleUrl, auth = ADMIN) {
  await page.goto(`${consoleUrl}#/live`);
  await page.getByTestId('signin-key').fill(auth.key);
  await page.getByTestId('signin-secret').fill(auth.secret);
  await page.getByTestId('signin-secret').press('Enter');
  await page.getByTestId('page-title').waitFor();
}

export const sleep = (ms) => new Promise((ok) => setTimeout(ok, ms));
