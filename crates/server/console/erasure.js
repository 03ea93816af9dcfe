// Erasure of a person: a dry run first (POST <base>/admin/erasure with "dry_run": true), and
// only after a dry run of the very same input, the erasure itself (after a confirm dialog).

import { api, h, fill, alertBox, statusLine, field, parseJson, confirmDialog, num } from './api.js';
import { report } from './admin.js';

/** The request body the server takes (ErasureRequest: agent, dry_run, pseudonymize, mentions, confirm). */
function body(input, dryRun, confirm) {
  const out = {
    agent: input.agent,
    dry_run: dryRun,
    pseudonymize: input.mode === 'pseudonymize',
    mentions: input.mentions,
  };
  if (!dryRun && confirm !== undefined) out.confirm = confirm;
  return out;
}

export function mount(root) {
  const error = alertBox('erasure-error');
  const status = statusLine('erasure-status');
  const agent = h('textarea', { name: 'agent', id: 'erasure-agent', 'data-testid': 'erasure-agent', rows: 3, required: true,
    spellcheck: 'false', placeholder: '{"mbox": "mailto:ada@example.org"}' });
  const mode = h('select', { name: 'mode', id: 'erasure-mode', 'data-testid': 'erasure-mode' },
    h('option', { value: 'delete' }, 'delete'),
    h('option', { value: 'pseudonymize' }, 'pseudonymize'));
  const mentions = h('select', { name: 'mentions', id: 'erasure-mentions', 'data-testid': 'erasure-mentions' },
    h('option', { value: 'pseudonymize' }, 'pseudonymize them'),
    h('option', { value: 'remove' }, 'remove them too'));
  const dry = h('button', { type: 'submit', class: 'primary', 'data-testid': 'erasure-dry-run' }, 'Dry run');
  const erase = h('button', { type: 'button', class: 'danger', 'data-testid': 'erasure-erase', disabled: true }, 'Erase');
  const result = h('div', { 'data-testid': 'erasure-result', 'aria-live': 'polite' });
  const form = h('form', { 'data-testid': 'erasure-form', 'aria-label': 'Erasure' },
    field('Person (Agent JSON, or a Person object listing several identifiers)', agent),
    h('div', { class: 'grid' },
      field('Mode', mode, 'delete: remove the statements about the person; pseudonymize: keep every statement with the person replaced by an opaque account.'),
      field('Statements that only mention them', mentions,
        'As authority, in a sub-statement or an extension (delete mode).')),
    h('div', { class: 'actions' }, dry, erase, status));
  fill(root,
    h('p', {}, 'Erases everything the store holds about one person: statements about them, their documents, attachments and forwarding entries. ',
      'Run a dry run first: it changes nothing and shows what would go. Erase is enabled only after a dry run of the same input.'),
    h('section', { class: 'panel' }, form),
    error.node,
    result);

  let checked = null; // {key, matched}: the input of the last dry run and what it found

  function input() {
    const text = agent.value.trim();
    if (!text) throw new Error('Give the person as Agent JSON, for example {"mbox": "mailto:ada@example.org"}.');
    return { agent: parseJson(text, 'Agent'), mode: mode.value, mentions: mentions.value };
  }

  function keyOf(value) {
    return JSON.stringify(value);
  }

  function sync() {
    let same = false;
    try {
      same = checked !== null && keyOf(input()) === checked.key;
    } catch {
      same = false;
    }
    erase.disabled = !same;
    erase.title = same ? '' : 'Run a dry run of this input first';
  }
  for (const control of [agent, mode, mentions]) {
    control.addEventListener('input', sync);
    control.addEventListener('change', sync);
  }
  sync();

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.clear();
    let value;
    try {
      value = input();
    } catch (err) {
      error.show(err);
      return;
    }
    dry.disabled = true;
    status.textContent = 'Dry run…';
    try {
      const receipt = await api('/admin/erasure', { method: 'POST', json: body(value, true) });
      const counts = (receipt && receipt.counts) || {};
      const matched = (Number(counts.statements_removed) || 0) + (Number(counts.statements_pseudonymized) || 0);
      checked = { key: keyOf(value), matched };
      status.textContent = 'Dry run done: nothing was changed.';
      fill(result, h('h2', {}, 'Dry run: what would be erased'),
        h('p', { 'data-testid': 'erasure-dry-summary' },
          `${num(matched)} statement${matched === 1 ? '' : 's'} would be removed or pseudonymized.`),
        report(receipt, 'erasure-receipt'));
    } catch (err) {
      checked = null;
      status.textContent = '';
      error.show(err);
    } finally {
      dry.disabled = false;
      sync();
    }
  });

  erase.addEventListener('click', async () => {
    let value;
    try {
      value = input();
    } catch (err) {
      error.show(err);
      return;
    }
    if (!checked || keyOf(value) !== checked.key) {
      sync();
      return;
    }
    const what = value.mode === 'pseudonymize' ? 'pseudonymize' : 'erase';
    const ok = await confirmDialog(
      `${what === 'erase' ? 'Erase' : 'Pseudonymize'} ${JSON.stringify(value.agent)}? ` +
      `The dry run found ${num(checked.matched)} statements. This cannot be undone.`,
      { confirm: what === 'erase' ? 'Erase' : 'Pseudonymize' });
    if (!ok) return;
    error.clear();
    erase.disabled = true;
    dry.disabled = true;
    status.textContent = 'Erasing…';
    try {
      const receipt = await api('/admin/erasure', { method: 'POST', json: body(value, false, checked.matched) });
      checked = null;
      if (receipt && receipt.running) {
        status.textContent = '';
        fill(result, h('h2', {}, 'Erasure running'),
          h('p', { 'data-testid': 'erasure-running' }, 'The erasure takes longer than 30 s and goes on in the server. ',
            'Its receipt is at ', h('code', {}, `GET /admin/erasure/${receipt.id}`), ' once it is done.'),
          report(receipt, 'erasure-receipt'));
      } else {
        status.textContent = 'Erased.';
        fill(result, h('h2', {}, 'Receipt'), report(receipt, 'erasure-receipt'));
      }
    } catch (err) {
      status.textContent = '';
      error.show(err);
    } finally {
      dry.disabled = false;
      sync();
    }
  });
  return null;
}
