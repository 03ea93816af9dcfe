// Administration pages: credentials, retention and forwarding (erasure is in erasure.js).

import {
  api, ApiError, h, fill, alertBox, statusLine, field, checkbox, pretty, num, duration, when,
  parseJson, confirmDialog, copyText, agentText,
} from './api.js';

const SCOPES = [
  'statements/write', 'statements/read/mine', 'statements/read', 'state', 'define', 'profile',
  'all/read', 'all', 'admin',
];

/** Numeric fields of a report, flattened ("counts.statements_removed": 3), for a summary. */
export function numbers(value, prefix = '', out = []) {
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) numbers(v, prefix ? `${prefix}.${k}` : k, out);
  } else if (typeof value === 'number') {
    out.push([prefix, value]);
  }
  return out;
}

/** A report: a summary of its numbers (non-zero ones highlighted) and its pretty JSON. */
export function report(value, testid) {
  const counts = numbers(value);
  return h('div', { 'data-testid': testid },
    counts.length
      ? h('div', { class: 'summary', 'data-testid': `${testid}-summary` }, counts.map(([name, n]) =>
        h('span', { class: `count${n ? ' nonzero' : ''}`, 'data-name': name }, h('strong', {}, num(n, 3)), ' ', name.replace(/^counts\./, '').replace(/_/g, ' '))))
      : null,
    h('pre', { tabindex: '0', 'data-testid': `${testid}-json` }, pretty(value)));
}

// ----- credentials -----------------------------------------------------------------------

export function mountCredentials(root) {
  const error = alertBox('credentials-error');
  const status = statusLine('credentials-status');
  const list = h('div', { 'data-testid': 'credentials' });
  const secretBox = h('div', { 'data-testid': 'credential-secret-box', hidden: true });

  const key = h('input', { name: 'key', id: 'cred-key', 'data-testid': 'cred-key', spellcheck: 'false', autocomplete: 'off' });
  const agent = h('textarea', { name: 'agent', id: 'cred-agent', 'data-testid': 'cred-agent', rows: 2, spellcheck: 'false',
    placeholder: '{"account": {"homePage": "https://lms.example.org", "name": "lms"}}' });
  const scopeBoxes = SCOPES.map((s) => checkbox(s, { name: 'scope', value: s, 'data-testid': `cred-scope-${s}` }));
  const createError = alertBox('cred-create-error');
  const form = h('form', { 'data-testid': 'cred-form', 'aria-labelledby': 'cred-title' },
    h('h2', { id: 'cred-title' }, 'New credential'),
    h('div', { class: 'grid' },
      field('Key (optional)', key, 'Generated when empty.'),
      field('Agent (JSON, optional)', agent, 'The authority of the statements it sends.')),
    h('fieldset', {}, h('legend', {}, 'Scopes'), scopeBoxes),
    createError.node,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary', 'data-testid': 'cred-create' }, 'Create credential')));

  fill(root, secretBox, error.node, status, list, h('section', { class: 'panel' }, form));
  let stopped = false;

  function showSecret(answer, what) {
    const copy = h('button', { type: 'button', 'data-testid': 'cred-copy' }, 'Copy secret');
    const done = h('button', { type: 'button', 'data-testid': 'cred-secret-done' }, 'I have stored it');
    const copied = statusLine('cred-copied');
    copy.addEventListener('click', async () => {
      try {
        await copyText(answer.secret);
        copied.textContent = 'Copied.';
      } catch (e) {
        copied.textContent = `Could not copy: ${e.message}`;
      }
    });
    done.addEventListener('click', () => {
      fill(secretBox);
      secretBox.hidden = true;
    });
    fill(secretBox, h('div', { class: 'warning', role: 'region', 'aria-labelledby': 'secret-title' },
      h('h2', { id: 'secret-title' }, `${what}: ${answer.key}`),
      h('p', {}, h('strong', {}, 'This secret is shown only once. '), 'Store it now: the server keeps only its hash.'),
      h('p', {}, 'Key: ', h('code', { 'data-testid': 'cred-new-key' }, answer.key)),
      h('p', {}, 'Secret: ', h('span', { class: 'secret', 'data-testid': 'cred-new-secret' }, answer.secret)),
      h('div', { class: 'actions' }, copy, done, copied)));
    secretBox.hidden = false;
    copy.focus();
  }

  async function load() {
    try {
      const answer = await api('/admin/credentials');
      if (stopped) return;
      error.clear();
      const creds = (answer && Array.isArray(answer.credentials)) ? answer.credentials : [];
      fill(list, creds.length
        ? h('div', { class: 'table-wrap' }, h('table', { 'data-testid': 'credentials-table' },
          h('thead', {}, h('tr', {}, ['Key', 'Scopes', 'Agent', 'Source', ''].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, creds.map(row))))
        : h('p', { class: 'empty' }, 'No credential.'));
    } catch (e) {
      if (!stopped) error.show(e);
    }
  }

  function row(c) {
    const name = String(c.key ?? c.username ?? '?');
    const rotate = h('button', { type: 'button', class: 'small', 'data-testid': 'cred-rotate' }, 'New secret');
    const remove = h('button', { type: 'button', class: 'small danger', 'data-testid': 'cred-remove' }, 'Remove');
    const enc = encodeURIComponent(name);
    rotate.addEventListener('click', async () => {
      if (!(await confirmDialog(`Give ${name} a new secret? The current one stops working at once.`, { confirm: 'New secret' }))) return;
      error.clear();
      try {
        const answer = await api(`/admin/credentials/${enc}/rotate`, { method: 'POST', json: {} });
        showSecret(answer, 'New secret');
      } catch (e) {
        error.show(e);
      }
    });
    remove.addEventListener('click', async () => {
      if (!(await confirmDialog(`Remove credential ${name}? Clients using it are refused from now on.`, { confirm: 'Remove' }))) return;
      error.clear();
      try {
        await api(`/admin/credentials/${enc}`, { method: 'DELETE' });
        status.textContent = `Removed ${name}.`;
      } catch (e) {
        error.show(e);
      }
      load();
    });
    const scopes = Array.isArray(c.scopes) ? c.scopes : [];
    return h('tr', { 'data-testid': 'credential-row', 'data-key': name },
      h('td', { class: 'id' }, name),
      h('td', {}, scopes.map((s) => h('span', { class: 'badge' }, s)).flatMap((b, i) => (i ? [' ', b] : [b]))),
      h('td', {}, c.agent ? agentText(c.agent) : '–'),
      h('td', {}, c.source || '–'),
      h('td', {}, h('div', { class: 'actions' }, rotate, remove)));
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    createError.clear();
    const scopes = [...form.querySelectorAll('input[name=scope]:checked')].map((i) => i.value);
    const body = { scopes };
    try {
      if (!scopes.length) throw new Error('Choose at least one scope.');
      if (key.value.trim()) body.key = key.value.trim();
      if (agent.value.trim()) body.agent = parseJson(agent.value, 'Agent');
      const answer = await api('/admin/credentials', { method: 'POST', json: body });
      form.reset();
      showSecret(answer, 'Credential created');
    } catch (err) {
      createError.show(err);
    }
    load();
  });

  load();
  return () => {
    stopped = true;
  };
}

// ----- retention -------------------------------------------------------------------------

export function mountRetention(root) {
  const error = alertBox('retention-error');
  const status = statusLine('retention-status');
  const settings = h('div', { 'data-testid': 'retention-settings' }, h('p', { class: 'status' }, 'Loading…'));
  const result = h('div', { 'data-testid': 'retention-result' });
  const dry = h('button', { type: 'button', 'data-testid': 'retention-dry-run' }, 'Dry run');
  const run = h('button', { type: 'button', class: 'danger', 'data-testid': 'retention-run' }, 'Run now');
  const reload = h('button', { type: 'button', 'data-testid': 'retention-reload' }, 'Reload');
  fill(root,
    h('p', {}, 'Retention removes statements and documents older than the configured ages. The settings come from the server\'s configuration.'),
    h('div', { class: 'actions' }, dry, run, reload, status),
    error.node,
    result,
    settings);

  async function load() {
    try {
      const answer = await api('/admin/retention');
      error.clear();
      const rows = [
        ['Statements kept for', answer.statements_max_age || 'ever'],
        ['Statement age counted by', answer.statements_age_by || '–'],
        ['Documents kept for', answer.documents_max_age || 'ever'],
        ['Pass every', answer.interval || '–'],
      ];
      fill(settings,
        h('h2', {}, 'Settings'),
        h('div', { class: 'table-wrap' }, h('table', {}, h('tbody', {}, rows.map(([k, v]) =>
          h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, String(v))))))),
        h('h2', {}, 'Last pass'),
        answer.last_pass ? report(answer.last_pass, 'retention-last') : h('p', { class: 'empty' }, 'No pass yet.'),
        h('h2', {}, 'What the next pass would remove'),
        answer.next_pass !== undefined ? report(answer.next_pass, 'retention-next') : h('p', { class: 'empty' }, '–'));
    } catch (e) {
      error.show(e);
      fill(settings);
    }
  }

  async function pass(dryRun) {
    if (!dryRun && !(await confirmDialog('Run a retention pass now? What it removes is gone for good.', { confirm: 'Run now' }))) return;
    for (const b of [dry, run]) b.disabled = true;
    error.clear();
    status.textContent = dryRun ? 'Running a dry run…' : 'Running a pass…';
    try {
      // The server requires `dry_run` in the body (false: a real pass).
      const answer = await api('/admin/retention', { method: 'POST', json: { dry_run: dryRun } });
      status.textContent = answer && answer.running ? 'The pass goes on in the background; reload to see it as the last pass.'
        : dryRun ? 'Dry run done: nothing was removed.' : 'Pass done.';
      fill(result, h('h2', {}, dryRun ? 'Dry run' : 'Pass'), report(answer, 'retention-report'));
    } catch (e) {
      status.textContent = '';
      error.show(e instanceof ApiError && e.status === 409 ? `Another process is running a pass: ${e.message}` : e);
    } finally {
      for (const b of [dry, run]) b.disabled = false;
    }
    if (!dryRun) load();
  }

  dry.addEventListener('click', () => pass(true));
  run.addEventListener('click', () => pass(false));
  reload.addEventListener('click', load);
  load();
  return null;
}

// ----- forwarding ------------------------------------------------------------------------

export function mountForwarding(root) {
  const error = alertBox('forwarding-error');
  const status = statusLine('forwarding-status');
  const targets = h('div', { 'data-testid': 'forwarding-targets' });
  const refusedPart = h('section', { 'data-testid': 'forwarding-refused', hidden: true });
  fill(root, error.node, status, targets, refusedPart);
  let stopped = false;

  /** GET /admin/forwarding: each target's queue and the statements the targets refused. */
  async function load() {
    let answer;
    try {
      answer = await api('/admin/forwarding');
    } catch (e) {
      if (!stopped) error.show(e);
      return;
    }
    if (stopped) return;
    error.clear();
    const list = answer.targets || [];
    fill(targets, list.length
      ? h('div', { class: 'table-wrap' }, h('table', { 'data-testid': 'forwarding-table' },
        h('thead', {}, h('tr', {}, [['Target'], ['Queue'], ['Held here', 'num'], ['Waiting', 'num'], ['Forwarded', 'num'],
          ['Refused', 'num'], ['Lag', 'num']].map(([t, c]) => h('th', { scope: 'col', class: c }, t)))),
        h('tbody', {}, list.map((t) => h('tr', { 'data-testid': 'forwarding-row' },
          h('td', { class: 'id' }, t.target),
          h('td', {}, t.queue || '–'),
          h('td', { class: 'num' }, num(t.forwarding_here)),
          h('td', { class: 'num' }, num(t.waiting)),
          h('td', { class: 'num' }, num(t.forwarded)),
          h('td', { class: 'num' }, h('span', { class: t.refused ? 'bad' : '' }, num(t.refused))),
          h('td', { class: 'num' }, duration(t.lag_seconds)))))))
      : h('p', { class: 'empty', 'data-testid': 'forwarding-none' }, 'Forwarding is not configured on this server.'));
    showRefused(answer.refused || [], list.length > 0);
  }

  function showRefused(refused, configured) {
    refusedPart.hidden = !configured && !refused.length;
    if (refusedPart.hidden) return;
    const retry = h('button', { type: 'button', 'data-testid': 'forwarding-retry', disabled: refused.length === 0 }, 'Retry refused now');
    retry.addEventListener('click', async () => {
      retry.disabled = true;
      error.clear();
      try {
        const done = await api('/admin/forwarding/retry', { method: 'POST', json: {} });
        status.textContent = `Sent again: ${num(done.requeued)} queued again, ${num(done.sent)} accepted, ` +
          `${num(done.refused_again)} refused again.`;
      } catch (e) {
        error.show(e);
      }
      load();
    });
    fill(refusedPart,
      h('h2', {}, 'Statements the targets refused'),
      h('div', { class: 'actions' }, retry),
      refused.length
        ? h('div', { class: 'table-wrap' }, h('table', { 'data-testid': 'forwarding-refused-table' },
          h('thead', {}, h('tr', {}, ['When', 'Target', 'Statement', 'Status', 'Answer'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, refused.map((r) => h('tr', { 'data-testid': 'forwarding-refused-row', 'data-id': r.statement },
            h('td', {}, when(r.refused_at)),
            h('td', { class: 'id' }, r.target),
            h('td', { class: 'id' }, r.statement),
            h('td', { class: 'num' }, r.status),
            h('td', {}, r.answer))))))
        : h('p', { class: 'empty' }, 'No statement refused by a target.'));
  }

  load();
  const timer = setInterval(() => {
    if (!document.hidden) load();
  }, 5000);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
