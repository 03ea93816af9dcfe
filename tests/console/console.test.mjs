// Browser tests of the xlrs operator console: a real server (XLRS_BIN, default
// target/debug/xlrs) and the system's Chromium (/usr/bin/chromium) through playwright-core.
// Run: node --test tests/console/   (after `npm install` in tests/console)

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import {
  ADMIN, PLUGINS, startServer, startPrefixProxy, launchBrowser, call, post, statement, signIn, sleep,
  installPlugin,
} from './harness.mjs';

let server;
let browser;
let consoleUrl;
const opened = [];

before(async () => {
  server = await startServer();
  consoleUrl = `${server.url}/console/`;
  browser = await launchBrowser();
});

after(async () => {
  for (const context of opened) await context.close().catch(() => {});
  if (browser) await browser.close();
  if (server) await server.stop();
});

/** A new page in a fresh context (its own sessionStorage and localStorage). */
async function newPage(options = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
  opened.push(context);
  const page = await context.newPage();
  page.setDefaultTimeout(20000);
  const problems = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) problems.push(`console error: ${m.text()}`);
  });
  page.problems = problems;
  return page;
}

/** Waits until `check()` answers a truthy value (retrying on throw), or fails with `what`. */
async function eventually(check, what, timeout = 20000) {
  const end = Date.now() + timeout;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) assert.fail(`${what}${last ? ` (${last.message})` : ''}`);
    await sleep(200);
  }
}

const text = (page, testid) => page.getByTestId(testid).innerText();

test('an operator signs in with the admin credential and sees the live view; a wrong secret shows the error message', async () => {
  const page = await newPage();
  await page.goto(consoleUrl);
  await page.getByTestId('signin-key').fill(ADMIN.key);
  await page.getByTestId('signin-secret').fill('not-the-secret');
  await page.getByTestId('signin-submit').click();
  const refusal = page.getByTestId('signin-error');
  await refusal.waitFor();
  assert.equal(await refusal.getAttribute('role'), 'alert');
  assert.match(await refusal.innerText(), /\w{4,}/, 'the server\'s message is shown');
  assert.equal(await page.getByTestId('nav').isVisible(), false, 'no page is shown before signing in');

  await page.getByTestId('signin-secret').fill(ADMIN.secret);
  await page.getByTestId('signin-secret').press('Enter');
  await page.waitForURL(/#\/live$/);
  assert.equal(await text(page, 'page-title'), 'Live');
  assert.equal(await page.getByTestId('signin-error').isVisible(), false);
  await post(server.url, [statement(), statement({ verb: 'attempted' })]);
  await eventually(async () => Number((await text(page, 'live-stored-total')).replace(/\D/g, '')) >= 2,
    'the live view counts the stored statements');
  await eventually(async () => /\d/.test(await text(page, 'live-stored-rate')), 'a rate is shown after two polls', 10000);
  assert.ok(await page.getByTestId('live-chart').isVisible(), 'the chart is drawn');
  assert.match(await text(page, 'live-store'), /answers/);
  assert.match(await text(page, 'server-info'), /xlrs \d+\.\d+/, 'the header shows the version');
  assert.match(await text(page, 'server-info'), /up /, 'and the uptime');
  assert.equal(await page.getByTestId('nav-plugins').getAttribute('aria-disabled'), null, 'admin pages are open to admin');

  await page.getByTestId('sign-out').click();
  await page.getByTestId('signin-form').waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.getItem('xlrs.console.auth')), null, 'signing out forgets the credential');
  assert.deepEqual(page.problems, []);
});

test('statements posted through the API appear in the live tail', async () => {
  const page = await newPage();
  await signIn(page, consoleUrl);
  await page.getByTestId('nav-tail').click();
  await eventually(async () => /Connected/.test(await text(page, 'tail-status')), 'the tail connects');
  const verb = `tailed-${randomUUID().slice(0, 8)}`;
  const ids = await post(server.url, [statement({ verb }), statement({ verb, email: 'grace@example.org', name: 'Grace' })]);
  for (const id of ids) {
    await page.locator(`[data-testid=tail-item][data-id="${id}"]`).waitFor({ timeout: 15000 });
  }
  const first = await page.getByTestId('tail-item').first().innerText();
  assert.match(first, new RegExp(verb));

  // Paused, arriving statements wait; resumed, they are shown.
  await page.getByTestId('tail-pause').click();
  const [held] = await post(server.url, statement({ verb }));
  await eventually(async () => /1 waiting/.test(await text(page, 'tail-status')), 'the paused tail holds the statement');
  assert.equal(await page.locator(`[data-testid=tail-item][data-id="${held}"]`).count(), 0);
  await page.getByTestId('tail-pause').click();
  await page.locator(`[data-testid=tail-item][data-id="${held}"]`).waitFor();

  // A filter on another verb lets none of these through.
  await page.getByTestId('t-verb').fill('http://adlnet.gov/expapi/verbs/other');
  await page.getByTestId('t-verb').press('Enter');
  await eventually(async () => /Connected/.test(await text(page, 'tail-status')), 'the tail reconnects with the filter');
  const [unseen] = await post(server.url, statement({ verb }));
  const [seen] = await post(server.url, statement({ verb: 'other' }));
  await page.locator(`[data-testid=tail-item][data-id="${seen}"]`).waitFor();
  assert.equal(await page.locator(`[data-testid=tail-item][data-id="${unseen}"]`).count(), 0);
  await page.getByTestId('tail-clear').click();
  assert.equal(await page.getByTestId('tail-item').count(), 0);
  assert.deepEqual(page.problems, []);
});

test('the statement browser filters by verb, pages through `more` and opens a statement showing its JSON', async () => {
  const verb = `paged-${randomUUID().slice(0, 8)}`;
  const ids = await post(server.url, Array.from({ length: 5 }, (_, i) => statement({ verb, activity: `courses/c-${i}` })));
  await post(server.url, [statement({ verb: 'experienced' }), statement({ verb: 'experienced' })]);
  const page = await newPage();
  await signIn(page, consoleUrl);
  await page.getByTestId('nav-statements').click();
  await page.getByTestId('q-verb').fill(`http://adlnet.gov/expapi/verbs/${verb}`);
  await page.getByTestId('q-limit').fill('2');
  await page.getByTestId('q-limit').press('Enter');
  const rows = page.getByTestId('statement-row');
  await eventually(async () => (await rows.count()) === 2, 'the first page holds 2 statements');
  await page.getByTestId('statements-more').click();
  await eventually(async () => (await rows.count()) === 4, 'More adds the next 2');
  await page.getByTestId('statements-more').click();
  await eventually(async () => (await rows.count()) === 5, 'More adds the last one');
  await eventually(async () => !(await page.getByTestId('statements-more').isVisible()), 'no More after the last page');
  const shown = await rows.evaluateAll((trs) => trs.map((tr) => tr.dataset.id));
  assert.deepEqual([...shown].sort(), [...ids].sort(), 'exactly the statements with that verb, each once');

  await page.locator(`[data-testid=statement-row][data-id="${ids[2]}"] [data-testid=statement-open]`).click();
  const detail = page.getByTestId('statement-detail');
  await detail.waitFor();
  const json = JSON.parse(await detail.getByTestId('detail-json').innerText());
  assert.equal(json.id, ids[2]);
  assert.equal(json.verb.id, `http://adlnet.gov/expapi/verbs/${verb}`);
  await eventually(async () => (await detail.getByTestId('detail-voided').innerText()) === 'not voided', 'its voided state is shown');
  await eventually(async () => (await detail.getByTestId('detail-referring').innerText()) === 'None.', 'no statement refers to it yet');

  // A voided statement says so, and lists its voiding statement among those referring to it.
  const [voiding] = await post(server.url, {
    actor: { mbox: 'mailto:ada@example.org' },
    verb: { id: 'http://adlnet.gov/expapi/verbs/voided' },
    object: { objectType: 'StatementRef', id: ids[2] },
  });
  await detail.getByTestId('detail-close').click();
  await page.locator(`[data-testid=statement-row][data-id="${ids[2]}"]`).click();
  await eventually(async () => (await detail.getByTestId('detail-voided').innerText()) === 'voided', 'a voided statement shows "voided"');
  await eventually(async () => (await detail.getByTestId('detail-referring').innerText()).includes(voiding), 'its voiding statement refers to it');

  // A bad filter shows the server's message.
  await page.getByTestId('q-registration').fill('not-a-uuid');
  await page.getByTestId('statements-search').click();
  await eventually(async () => (await text(page, 'statements-error')).length > 5, 'the error message is shown');
  assert.deepEqual(page.problems, []);
});

test('an uploaded plugin takes effect: a big statement is refused naming it, the refusal is listed, and removing it lifts it', async () => {
  const page = await newPage();
  await signIn(page, consoleUrl);
  await page.getByTestId('nav-plugins').click();
  await page.getByTestId('plugin-name').fill('max-size');
  await page.getByTestId('plugin-wasm').setInputFiles(join(PLUGINS, 'max-size.wasm'));
  await page.getByTestId('plugin-manifest').fill('kind = "validator"\norder = 5\n\n[config]\nmax_bytes = 300\n');
  await page.getByTestId('plugin-upload').click();
  await eventually(async () => /Uploaded max-size/.test(await text(page, 'plugin-upload-status')),
    'the upload is acknowledged', 120000);
  const row = page.locator('[data-testid=plugin-row][data-name="max-size"]');
  await row.waitFor();
  assert.match(await row.innerText(), /validator/);

  const big = statement({ verb: 'commented', extra: { result: { response: 'x'.repeat(600) } } });
  const refused = await call(server.url, '/xAPI/statements', { method: 'POST', json: big });
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.match(refused.body.message, /max-size/);
  const small = await call(server.url, '/xAPI/statements', { method: 'POST', json: statement() });
  assert.equal(small.status, 200, 'a small statement still passes');

  await page.getByTestId('nav-refusals').click();
  const message = page.getByTestId('refusal-message').filter({ hasText: 'max-size' }).first();
  await message.waitFor();
  assert.match(await page.getByTestId('refusal-row').first().innerText(), /POST \/xAPI\/statements/);

  await page.getByTestId('nav-plugins').click();
  await row.getByTestId('plugin-remove').click();
  await page.getByTestId('confirm-ok').click();
  await eventually(async () => (await row.count()) === 0, 'the removed plugin is no longer listed');
  const after = await call(server.url, '/xAPI/statements', { method: 'POST', json: big });
  assert.equal(after.status, 200, `without the plugin the big statement is stored: ${JSON.stringify(after.body)}`);
  assert.deepEqual(page.problems, []);
});

test('an operator turns off a rule an admission plugin may waive, and statements breaking it are refused again', async () => {
  const page = await newPage();
  await signIn(page, consoleUrl);
  await page.getByTestId('nav-plugins').click();
  await page.getByTestId('plugin-name').fill('waiver');
  await page.getByTestId('plugin-wasm').setInputFiles(join(PLUGINS, 'fault-admission.wasm'));
  await page.getByTestId('plugin-manifest').fill('kind = "admission"\norder = 1\n\n[config]\nmode = "waive-all"\n');
  await page.getByTestId('plugin-upload').click();
  await eventually(async () => /Uploaded waiver/.test(await text(page, 'plugin-upload-status')),
    'the upload is acknowledged', 120000);
  const waivers = page.locator('[data-testid=plugin-waivers][data-name="waiver"]');
  await waivers.waitFor();
  assert.equal(await waivers.getByTestId('waive-object-type').isChecked(), true, 'every waivable rule at first');

  const groupActivity = () => {
    const s = statement();
    s.object.objectType = 'GroupActivity';
    return s;
  };
  const admitted = await call(server.url, '/xAPI/statements', { method: 'POST', json: groupActivity() });
  assert.equal(admitted.status, 200, JSON.stringify(admitted.body));

  await waivers.getByTestId('waive-object-type').uncheck();
  await waivers.getByTestId('waivers-save').click();
  await eventually(async () => /waiver may waive iri, activity-id, score/.test(await text(page, 'plugins-status')),
    'the new waivers are acknowledged');
  const refused = await call(server.url, '/xAPI/statements', { method: 'POST', json: groupActivity() });
  assert.equal(refused.status, 400, JSON.stringify(refused.body));
  assert.match(refused.body.message, /object-type/);
  assert.equal(await page.locator('[data-testid=plugin-waivers][data-name="waiver"]')
    .getByTestId('waive-object-type').isChecked(), false, 'the page shows what the server holds');

  await page.getByTestId('nav-live').click();
  await eventually(async () => /waiver\s+object-type\s+waived\s+1/.test(await text(page, 'live-admissions')),
    'the live view counts the statement admitted despite the rule');

  await page.getByTestId('nav-plugins').click();
  await page.locator('[data-testid=plugin-row][data-name="waiver"]').getByTestId('plugin-remove').click();
  await page.getByTestId('confirm-ok').click();
  await eventually(async () => (await page.locator('[data-testid=plugin-row][data-name="waiver"]').count()) === 0,
    'the plugin is removed');
  assert.deepEqual(page.problems, []);
});

test('a credential created in the console (scope statements/write) can post a statement and gets 403 on /admin/status', async () => {
  const page = await newPage();
  await signIn(page, consoleUrl);
  await page.getByTestId('nav-credentials').click();
  const key = `producer-${randomUUID().slice(0, 8)}`;
  await page.getByTestId('cred-key').fill(key);
  await page.getByTestId('cred-scope-statements/write').check();
  await page.getByTestId('cred-create').click();
  const secret = await page.getByTestId('cred-new-secret').innerText();
  assert.ok(secret.length >= 12, 'the secret is shown once');
  assert.match(await text(page, 'credential-secret-box'), /shown only once/);
  const row = page.locator(`[data-testid=credential-row][data-key="${key}"]`);
  await row.waitFor();
  assert.match(await row.innerText(), /statements\/write/);

  const producer = { key, secret };
  const stored = await call(server.url, '/xAPI/statements', { method: 'POST', json: statement(), auth: producer });
  assert.equal(stored.status, 200, JSON.stringify(stored.body));
  const status = await call(server.url, '/admin/status', { auth: producer });
  assert.equal(status.status, 403);

  // Signed in with it, the console closes the admin pages and says why.
  const other = await newPage();
  await signIn(other, consoleUrl, producer);
  assert.equal(await other.getByTestId('nav-plugins').getAttribute('aria-disabled'), 'true');
  assert.ok(await other.getByTestId('admin-note').isVisible());
  await other.evaluate(() => { location.hash = '#/plugins'; });
  await other.getByTestId('admin-required').waitFor();

  // A new secret replaces the old one.
  await row.getByTestId('cred-rotate').click();
  await page.getByTestId('confirm-ok').click();
  await eventually(async () => (await text(page, 'cred-new-secret')) !== secret, 'a new secret is shown');
  const rotated = await text(page, 'cred-new-secret');
  assert.equal((await call(server.url, '/xAPI/statements', { method: 'POST', json: statement(), auth: producer })).status, 401);
  assert.equal((await call(server.url, '/xAPI/statements', { method: 'POST', json: statement(), auth: { key, secret: rotated } })).status, 200);

  await row.getByTestId('cred-remove').click();
  await page.getByTestId('confirm-ok').click();
  await eventually(async () => (await row.count()) === 0, 'the removed credential is no longer listed');
  assert.deepEqual(page.problems, []);
});

test('an erasure dry run shows what would be erased and erases nothing', async () => {
  const email = `erase-${randomUUID().slice(0, 8)}@example.org`;
  await post(server.url, [statement({ email }), statement({ email, verb: 'attempted' }), statement({ email, verb: 'passed' })]);
  const agent = { mbox: `mailto:${email}` };
  const page = await newPage();
  await signIn(page, consoleUrl);
  await page.getByTestId('nav-erasure').click();
  await page.getByTestId('erasure-agent').fill(JSON.stringify(agent));
  assert.equal(await page.getByTestId('erasure-erase').isDisabled(), true, 'Erase waits for a dry run');
  await page.getByTestId('erasure-dry-run').click();
  const removed = page.locator('[data-testid=erasure-receipt-summary] [data-name="counts.statements_removed"]');
  await removed.waitFor();
  assert.match(await removed.innerText(), /^3\b/);
  assert.match(await text(page, 'erasure-receipt-json'), /"dry_run": true/);
  assert.equal(await page.getByTestId('erasure-erase').isEnabled(), true, 'Erase is offered after the dry run');

  const found = await call(server.url, `/xAPI/statements?agent=${encodeURIComponent(JSON.stringify(agent))}`);
  assert.equal(found.body.statements.length, 3, 'the dry run erased nothing');

  await page.getByTestId('erasure-mode').selectOption('pseudonymize');
  assert.equal(await page.getByTestId('erasure-erase').isDisabled(), true, 'another input needs its own dry run');
  await page.getByTestId('erasure-mode').selectOption('delete');
  assert.equal(await page.getByTestId('erasure-erase').isEnabled(), true);

  // Cancelled at the confirm dialog, nothing happens either.
  await page.getByTestId('erasure-erase').click();
  await page.getByTestId('confirm-cancel').click();
  assert.equal((await call(server.url, `/xAPI/statements?agent=${encodeURIComponent(JSON.stringify(agent))}`)).body.statements.length, 3);

  // Bad input shows the message.
  await page.getByTestId('erasure-agent').fill('{"mbox": ');
  await page.getByTestId('erasure-dry-run').click();
  await eventually(async () => /not valid JSON/.test(await text(page, 'erasure-error')), 'bad JSON is reported');
  assert.deepEqual(page.problems, []);
});

test('a statement a forwarding target refused is listed with its answer, and sent again by "Retry refused now"', async () => {
  const target = await startServer();
  const source = await startServer({
    XLRS_FORWARDING: JSON.stringify([{ url: `${target.url}/xAPI`, username: ADMIN.key, password: ADMIN.secret }]),
  });
  try {
    await installPlugin(target.url, 'max-size', 'max-size.wasm', 'kind = "validator"\norder = 5\n\n[config]\nmax_bytes = 300\n');
    const [id] = await post(source.url, statement({ extra: { result: { response: 'x'.repeat(600) } } }));
    const page = await newPage();
    await signIn(page, `${source.url}/console/`);
    await page.getByTestId('nav-forwarding').click();
    const row = page.locator(`[data-testid=forwarding-refused-row][data-id="${id}"]`);
    await row.waitFor({ timeout: 60000 });
    assert.match(await row.innerText(), /400[\s\S]*max-size/, 'the status and the target\'s answer are shown');

    const removed = await call(target.url, '/admin/plugins/max-size', { method: 'DELETE' });
    assert.equal(removed.status, 204);
    await page.getByTestId('forwarding-retry').click();
    await eventually(async () => /1 queued again/.test(await text(page, 'forwarding-status')), 'the retry is acknowledged');
    await eventually(async () => (await row.count()) === 0, 'the statement leaves the refused list', 60000);
    await eventually(async () => (await call(target.url, `/xAPI/statements?statementId=${id}`)).status === 200,
      'the target stores it once sent again', 60000);
    assert.deepEqual(page.problems, []);
  } finally {
    await source.stop();
    await target.stop();
  }
});

test('the console works behind a path prefix (a reverse proxy serving it under /lrs)', async () => {
  const proxy = await startPrefixProxy(server.url, '/lrs');
  try {
    const page = await newPage();
    await signIn(page, `${proxy.url}/console/`);
    await eventually(async () => /\d/.test(await text(page, 'live-stored-total')), 'the live view loads through the prefix');
    const verb = `prefixed-${randomUUID().slice(0, 8)}`;
    await post(server.url, Array.from({ length: 3 }, () => statement({ verb })));
    await page.getByTestId('nav-statements').click();
    await page.getByTestId('q-verb').fill(`http://adlnet.gov/expapi/verbs/${verb}`);
    await page.getByTestId('q-limit').fill('2');
    await page.getByTestId('q-limit').press('Enter');
    const rows = page.getByTestId('statement-row');
    await eventually(async () => (await rows.count()) === 2, 'the first page loads through the prefix');
    await page.getByTestId('statements-more').click();
    await eventually(async () => (await rows.count()) === 3, '`more` is followed under the prefix');
    await page.getByTestId('nav-credentials').click();
    await page.getByTestId('credentials-table').waitFor();
    assert.deepEqual(page.problems, []);
  } finally {
    await proxy.stop();
  }
});

test('the page is usable at phone width: the navigation is reachable from the menu button', async () => {
  const page = await newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
  await signIn(page, consoleUrl);
  const nav = page.getByTestId('nav');
  const menu = page.getByTestId('menu-toggle');
  assert.equal(await menu.isVisible(), true, 'a menu button is shown');
  assert.equal(await nav.isVisible(), false, 'the navigation is folded away');
  await menu.click();
  assert.equal(await menu.getAttribute('aria-expanded'), 'true');
  await page.getByTestId('nav-statements').click();
  await page.waitForURL(/#\/statements$/);
  assert.equal(await text(page, 'page-title'), 'Statements');
  assert.equal(await nav.isVisible(), false, 'choosing a page folds the navigation again');
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 1, `no sideways scrolling (${overflow}px too wide)`);

  // By keyboard too: the menu button opens the navigation and Escape closes it.
  await menu.focus();
  await page.keyboard.press('Enter');
  assert.equal(await nav.isVisible(), true);
  await page.keyboard.press('Escape');
  assert.equal(await nav.isVisible(), false);
  assert.deepEqual(page.problems, []);
});

test('the theme toggle switches to dark mode and the choice is remembered', async () => {
  const page = await newPage({ colorScheme: 'light' });
  await signIn(page, consoleUrl);
  const background = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const light = await background();
  await page.getByTestId('theme-toggle').click();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark');
  assert.notEqual(await background(), light);
  await page.reload();
  assert.equal(await page.evaluate(() => document.documentElement.dataset.theme), 'dark', 'remembered after a reload');
  assert.equal(await page.getByTestId('theme-toggle').getAttribute('aria-pressed'), 'true');
});

test('the console\'s files are served with their media types and no inline script', async () => {
  const index = await fetch(consoleUrl);
  assert.equal(index.status, 200);
  assert.match(index.headers.get('content-type'), /text\/html/);
  const html = await index.text();
  assert.doesNotMatch(html, /<script>(?!\s*<\/script>)/, 'no inline script (the CSP forbids them)');
  assert.doesNotMatch(html, /https?:\/\//, 'nothing from the network');
  for (const name of ['app.js', 'api.js', 'style.css']) {
    const asset = await fetch(`${server.url}/console/${name}`);
    assert.equal(asset.status, 200, name);
  }
});
