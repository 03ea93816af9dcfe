// Statement browser: every filter of GET /xAPI/statements, the results page by page through
// `more`, and a detail pane per statement (its JSON, attachments, voided state, and the
// statements referring to it). The filter fields are shared with the live tail (tail.js).

import {
  api, ApiError, h, fill, alertBox, statusLine, field, checkbox, pretty, agentText, display, num,
  parseJson, when,
} from './api.js';

/** The filter fields: `which` lists the names to include (the tail takes fewer). */
export function filterFields(prefix, which) {
  const input = (name, attrs = {}) =>
    h('input', { name, id: `${prefix}-${name}`, 'data-testid': `${prefix}-${name}`, ...attrs });
  const all = {
    agent: () => field('Agent (JSON)',
      h('textarea', { name: 'agent', id: `${prefix}-agent`, 'data-testid': `${prefix}-agent`, rows: 1, class: 'short', spellcheck: 'false',
        placeholder: '{"mbox": "mailto:ada@example.org"}' })),
    verb: () => field('Verb IRI', input('verb', { placeholder: 'http://adlnet.gov/expapi/verbs/completed', spellcheck: 'false' })),
    activity: () => field('Activity IRI', input('activity', { placeholder: 'https://lms.example.org/courses/algebra-1', spellcheck: 'false' })),
    registration: () => field('Registration (UUID)', input('registration', { spellcheck: 'false' })),
    since: () => field('Stored since', input('since', { placeholder: '2025-01-31T00:00:00Z', spellcheck: 'false', title: 'ISO 8601 timestamp, exclusive' })),
    until: () => field('Stored until', input('until', { placeholder: '2025-02-01T00:00:00Z', spellcheck: 'false', title: 'ISO 8601 timestamp, inclusive' })),
    limit: () => field('Limit', input('limit', { type: 'number', min: '0', step: '1', value: '25', title: '0 lets the server choose' })),
    format: () => field('Format',
      h('select', { name: 'format', id: `${prefix}-format`, 'data-testid': `${prefix}-format` },
        h('option', { value: 'exact' }, 'exact'),
        h('option', { value: 'ids' }, 'ids'),
        h('option', { value: 'canonical' }, 'canonical'))),
  };
  const fields = which.filter((n) => all[n]).map((n) => all[n]());
  const checks = [];
  for (const [name, label] of [
    ['related_activities', 'Related activities'],
    ['related_agents', 'Related agents'],
    ['ascending', 'Oldest first (ascending)'],
  ]) {
    if (which.includes(name)) checks.push(checkbox(label, { name, 'data-testid': `${prefix}-${name}` }));
  }
  return h('div', {},
    h('div', { class: 'grid' }, fields),
    checks.length ? h('fieldset', {}, h('legend', {}, 'Options'), checks) : null);
}

/** The query parameters of a filter form (only those set); throws on bad agent JSON. */
export function filterParams(form) {
  const params = new URLSearchParams();
  const value = (name) => (form.elements[name] ? form.elements[name].value.trim() : '');
  const agent = value('agent');
  if (agent) params.set('agent', JSON.stringify(parseJson(agent, 'Agent')));
  for (const name of ['verb', 'activity', 'registration', 'since', 'until']) {
    if (value(name)) params.set(name, value(name));
  }
  for (const name of ['related_activities', 'related_agents', 'ascending']) {
    if (form.elements[name] && form.elements[name].checked) params.set(name, 'true');
  }
  if (value('limit') !== '') params.set('limit', value('limit'));
  if (value('format') && value('format') !== 'exact') params.set('format', value('format'));
  return params;
}

/** The object of a statement as one line. */
export function objectText(object) {
  if (!object) return '–';
  if (object.objectType === 'Agent' || object.objectType === 'Group') return agentText(object);
  if (object.objectType === 'StatementRef') return `statement ${object.id}`;
  if (object.objectType === 'SubStatement') return 'sub-statement';
  const name = object.definition && display(object.definition.name);
  return name ? `${object.id} (${name})` : object.id || '–';
}

export function verbText(verb) {
  if (!verb) return '–';
  return display(verb.display) || verb.id;
}

/** The path (under base) of a `more` link: whatever is before `/xAPI/` is dropped. */
export function morePath(more) {
  const at = more.indexOf('/xAPI/');
  return at >= 0 ? more.slice(at) : `/xAPI/statements?more=${encodeURIComponent(more)}`;
}

// ----- the browser -----------------------------------------------------------------------

export function mountBrowser(root) {
  const error = alertBox('statements-error');
  const status = statusLine('statements-status');
  const form = h('form', { 'data-testid': 'statements-form', 'aria-label': 'Statement filters' },
    filterFields('q', ['agent', 'verb', 'activity', 'registration', 'since', 'until', 'limit', 'format',
      'related_activities', 'related_agents', 'ascending']),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', 'data-testid': 'statements-search' }, 'Search'),
      h('button', { type: 'reset', 'data-testid': 'statements-reset' }, 'Clear filters')));
  const body = h('tbody', { 'data-testid': 'statements-rows' });
  const results = h('div', { class: 'table-wrap', hidden: true },
    h('table', { 'data-testid': 'statements-table' },
      h('caption', { class: 'offscreen' }, 'Statements found'),
      h('thead', {}, h('tr', {},
        ['Stored', 'Actor', 'Verb', 'Object', 'Id'].map((t) => h('th', { scope: 'col' }, t)))),
      body));
  const more = h('button', { type: 'button', 'data-testid': 'statements-more', hidden: true }, 'More');
  const detail = h('aside', { class: 'detail panel', 'data-testid': 'statement-detail', 'aria-label': 'Statement detail', hidden: true });
  fill(root,
    h('section', { class: 'panel' }, form),
    error.node,
    h('div', { class: 'split' },
      h('div', {}, status, results, h('div', { class: 'actions' }, more)),
      detail));

  let next = null;
  let count = 0;
  let controller = null;

  async function load(path, append) {
    if (controller) controller.abort();
    controller = new AbortController();
    error.clear();
    status.textContent = 'Loading…';
    more.disabled = true;
    try {
      const answer = await api(path, { signal: controller.signal });
      const list = (answer && answer.statements) || [];
      if (!append) {
        body.replaceChildren();
        count = 0;
      }
      for (const statement of list) body.append(row(statement));
      count += list.length;
      next = answer && answer.more ? answer.more : null;
      results.hidden = count === 0;
      more.hidden = !next;
      status.textContent = count === 0 ? 'No statement matches.'
        : `${num(count)} statement${count === 1 ? '' : 's'} shown${next ? '; more match' : ''}.`;
    } catch (e) {
      if (e.name === 'AbortError') return;
      error.show(e);
      status.textContent = '';
    } finally {
      more.disabled = false;
    }
  }

  function row(statement) {
    const open = h('button', { type: 'button', class: 'link-button short-id', 'data-testid': 'statement-open',
      title: statement.id, 'aria-label': `Open statement ${statement.id}` }, `${String(statement.id || '–').slice(0, 8)}…`);
    const tr = h('tr', { 'data-testid': 'statement-row', 'data-id': statement.id },
      h('td', {}, when(statement.stored)),
      h('td', {}, agentText(statement.actor)),
      h('td', { title: statement.verb && statement.verb.id }, verbText(statement.verb)),
      h('td', { class: 'id' }, objectText(statement.object)),
      h('td', {}, open));
    const show = () => {
      for (const other of body.querySelectorAll('tr.selected')) other.classList.remove('selected');
      tr.classList.add('selected');
      showDetail(detail, statement);
    };
    open.addEventListener('click', (e) => {
      e.stopPropagation();
      show();
    });
    tr.addEventListener('click', show);
    return tr;
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    let params;
    try {
      params = filterParams(form);
    } catch (err) {
      error.show(err);
      return;
    }
    detail.hidden = true;
    load(`/xAPI/statements?${params}`, false);
  });
  form.addEventListener('reset', () => setTimeout(() => form.requestSubmit(), 0));
  more.addEventListener('click', () => {
    if (next) load(morePath(next), true);
  });
  load('/xAPI/statements?limit=25', false);
  return () => {
    if (controller) controller.abort();
  };
}

// ----- the detail pane -------------------------------------------------------------------

/** Shows a statement's JSON, attachments, voided state and referring statements in `pane`. */
export function showDetail(pane, statement) {
  const voided = h('span', { 'data-testid': 'detail-voided', class: 'badge' }, 'checking…');
  const referring = h('div', { 'data-testid': 'detail-referring' }, h('p', { class: 'status' }, 'Loading…'));
  const attachments = Array.isArray(statement.attachments) ? statement.attachments : [];
  const close = h('button', { type: 'button', class: 'small', 'data-testid': 'detail-close' }, 'Close');
  fill(pane,
    h('div', { class: 'actions' },
      h('h2', { id: 'detail-title' }, 'Statement'), close),
    h('p', { class: 'id mono', 'data-testid': 'detail-id' }, statement.id),
    h('p', {}, 'State: ', voided),
    h('h3', {}, 'JSON'),
    h('pre', { 'data-testid': 'detail-json', tabindex: '0', 'aria-label': 'Statement JSON' }, pretty(statement)),
    h('h3', {}, `Attachments (${attachments.length})`),
    attachments.length
      ? h('div', { class: 'table-wrap' }, h('table', { 'data-testid': 'detail-attachments' },
        h('thead', {}, h('tr', {}, ['Usage type', 'Display', 'Content type', 'Length', 'SHA-2']
          .map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, attachments.map((a) => h('tr', {},
          h('td', { class: 'id' }, a.usageType || '–'),
          h('td', {}, display(a.display) || '–'),
          h('td', {}, a.contentType || '–'),
          h('td', { class: 'num' }, num(a.length)),
          h('td', { class: 'id' }, a.sha2 || '–'))))))
      : h('p', { class: 'empty' }, 'No attachment.'),
    h('h3', {}, 'Statements referring to it'),
    referring);
  pane.hidden = false;
  close.addEventListener('click', () => {
    pane.hidden = true;
  });
  close.focus({ preventScroll: true });
  // Side by side on a wide screen; below the list on a narrow one, so brought into view.
  if (matchMedia('(max-width: 860px)').matches) pane.scrollIntoView({ block: 'start' });
  checkVoided(statement.id, voided);
  loadReferring(statement.id, referring, pane);
}

async function checkVoided(id, badge) {
  const q = encodeURIComponent(id);
  try {
    await api(`/xAPI/statements?statementId=${q}`);
    badge.textContent = 'not voided';
    badge.className = 'badge live';
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 404) {
      badge.textContent = `unknown (${e.message})`;
      return;
    }
    try {
      await api(`/xAPI/statements?voidedStatementId=${q}`);
      badge.textContent = 'voided';
      badge.className = 'badge voided';
    } catch (again) {
      badge.textContent = again.status === 404 ? 'not found (erased?)' : `unknown (${again.message})`;
    }
  }
}

async function loadReferring(id, target, pane) {
  try {
    const answer = await api(`/console/api/referring?statementId=${encodeURIComponent(id)}`);
    const list = (answer && answer.statements) || [];
    const voided = new Set((answer && answer.voided) || []);
    if (!list.length) {
      fill(target, h('p', { class: 'empty' }, 'None.'));
      return;
    }
    fill(target, h('ul', {}, list.map((s) => h('li', {},
      h('button', { type: 'button', class: 'link-button', onclick: () => showDetail(pane, s) }, s.id),
      ` — ${agentText(s.actor)} ${verbText(s.verb)}`,
      voided.has(s.id) ? h('span', { class: 'badge voided' }, 'voided') : ''))));
  } catch (e) {
    if (e instanceof ApiError && (e.status === 404 || e.status === 501)) {
      fill(target, h('p', { class: 'empty' }, 'Not available on this server.'));
    } else {
      fill(target, h('div', { class: 'alert', role: 'alert' }, e.message));
    }
  }
}
