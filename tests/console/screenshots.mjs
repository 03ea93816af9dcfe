// Screenshots of the xlrs operator console for docs/console/: starts a server, sends it some
// traffic (stored and refused statements) and photographs the main pages at 1280×800, one in
// dark mode and one at phone size (390×844).
// Run: node tests/console/screenshots.mjs   (XLRS_BIN and XLRS_CONSOLE__DIR as for the tests)

import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ADMIN, PLUGINS, repo, startServer, launchBrowser, call, post, statement, signIn, sleep } from './harness.mjs';

const out = join(repo, 'docs', 'console');
const people = [['ada@example.org', 'Ada Lovelace'], ['grace@example.org', 'Grace Hopper'], ['alan@example.org', 'Alan Turing'],
  ['katherine@example.org', 'Katherine Johnson'], ['edsger@example.org', 'Edsger Dijkstra']];
const verbs = ['completed', 'attempted', 'passed', 'experienced', 'answered'];
const courses = ['courses/algebra-1', 'courses/geometry', 'courses/statistics', 'modules/intro-video', 'quizzes/week-3'];

function randomStatement(i) {
  const [email, name] = people[i % people.length];
  return statement({ email, name, verb: verbs[(i * 7) % verbs.length], activity: courses[(i * 3) % courses.length] });
}

async function uploadPlugin(base) {
  const form = new FormData();
  form.append('wasm', new Blob([await readFile(join(PLUGINS, 'max-size.wasm'))]), 'max-size.wasm');
  form.append('manifest', 'kind = "validator"\norder = 5\n\n[config]\nmax_bytes = 2000\n');
  const answer = await fetch(`${base}/admin/plugins/max-size`, {
    method: 'PUT',
    headers: { Authorization: `Basic ${Buffer.from(`${ADMIN.key}:${ADMIN.secret}`).toString('base64')}` },
    body: form,
  });
  if (!answer.ok) console.warn(`plugin upload: ${answer.status} ${await answer.text()}`);
}

/** Sends traffic for `seconds`: batches of statements, now and then a refused one. */
async function traffic(base, seconds) {
  const end = Date.now() + seconds * 1000;
  let i = 0;
  while (Date.now() < end) {
    const size = 1 + Math.round(4 * (1 + Math.sin(i / 6)));
    await post(base, Array.from({ length: size }, () => randomStatement(i++)));
    if (i % 9 === 0) {
      await call(base, '/xAPI/statements', { method: 'POST', json: { actor: { mbox: 'mailto:ada@example.org' }, object: { id: 'https://lms.example.org/x' } } });
    }
    if (i % 13 === 0) {
      await call(base, '/xAPI/statements', { method: 'POST', json: statement({ extra: { result: { response: 'x'.repeat(3000) } } }) });
    }
    await sleep(400);
  }
}

async function main() {
  await mkdir(out, { recursive: true });
  const server = await startServer();
  const browser = await launchBrowser();
  try {
    const base = server.url;
    const url = `${base}/console/`;
    await uploadPlugin(base);
    await call(base, '/admin/credentials', { method: 'POST', json: { key: 'lms-producer', scopes: ['statements/write', 'state'] } });
    await call(base, '/admin/credentials', { method: 'POST', json: { key: 'dashboard', scopes: ['all/read'] } });

    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme: 'light' });
    const page = await context.newPage();
    page.setDefaultTimeout(30000);
    await signIn(page, url);
    // Photographed while the traffic goes on, so the rates are not zero.
    const sending = traffic(base, 48);
    await sleep(42000);
    await page.screenshot({ path: join(out, 'live.png') });
    await page.getByTestId('theme-toggle').click();
    await sleep(2100);
    await page.screenshot({ path: join(out, 'live-dark.png') });
    await page.getByTestId('theme-toggle').click();
    await sending;

    await page.getByTestId('nav-statements').click();
    await page.getByTestId('statement-row').first().waitFor();
    await page.getByTestId('statement-open').nth(1).click();
    await page.getByTestId('detail-voided').filter({ hasNotText: 'checking' }).waitFor();
    await sleep(300);
    await page.screenshot({ path: join(out, 'statements.png') });

    await page.getByTestId('nav-tail').click();
    await page.getByTestId('tail-status').filter({ hasText: 'Connected' }).waitFor();
    await traffic(base, 5);
    await sleep(1200);
    await page.screenshot({ path: join(out, 'tail.png') });

    await page.getByTestId('nav-refusals').click();
    await page.getByTestId('refusal-row').first().waitFor();
    await page.screenshot({ path: join(out, 'refusals.png') });

    await page.getByTestId('nav-plugins').click();
    await page.getByTestId('plugin-row').first().waitFor();
    await page.screenshot({ path: join(out, 'plugins.png') });

    await page.getByTestId('nav-credentials').click();
    await page.getByTestId('credentials-table').waitFor();
    await page.getByTestId('cred-key').fill('analytics-export');
    await page.getByTestId('cred-scope-statements/read').check();
    await page.getByTestId('cred-create').click();
    await page.getByTestId('cred-new-secret').waitFor();
    await sleep(300);
    await page.screenshot({ path: join(out, 'credentials.png') });

    await page.getByTestId('nav-erasure').click();
    await page.getByTestId('erasure-agent').fill('{"mbox": "mailto:grace@example.org"}');
    await page.getByTestId('erasure-dry-run').click();
    await page.getByTestId('erasure-receipt').waitFor();
    await sleep(300);
    await page.screenshot({ path: join(out, 'erasure.png') });
    await context.close();

    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, deviceScaleFactor: 2 });
    const small = await phone.newPage();
    small.setDefaultTimeout(30000);
    await signIn(small, url);
    const more = traffic(base, 10);
    await sleep(7000);
    await small.screenshot({ path: join(out, 'phone.png') });
    await more;
    await phone.close();
    console.log(`screenshots written to ${out}`);
  } finally {
    await browser.close();
    await server.stop();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
