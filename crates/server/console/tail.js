// Live tail (GET <base>/console/api/tail, an event stream read with fetch(), since EventSource
// cannot send Authorization) and the refused requests (GET <base>/console/api/refusals).

import { api, ApiError, h, fill, alertBox, statusLine, agentText, when, num } from './api.js';
import { filterFields, filterParams, objectText, verbText, showDetail } from './statements.js';

const KEEP = 200;
const RECONNECT_MS = 3000;

/**
 * Reads a text/event-stream body, calling onEvent({event, data}) per event. Lines starting
 * with ':' are keep-alives. Resolves when the stream ends.
 */
export async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  let event = 'message';
  let data = [];
  const line = (text) => {
    if (text === '') {
      if (data.length) onEvent({ event, data: data.join('\n') });
      event = 'message';
      data = [];
      return;
    }
    if (text.startsWith(':')) return;
    const colon = text.indexOf(':');
    const name = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (name === 'event') event = value;
    else if (name === 'data') data.push(value);
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true });
    let at;
    while ((at = buffer.search(/\r\n|\r|\n/)) >= 0) {
      const text = buffer.slice(0, at);
      buffer = buffer.slice(at + (buffer.startsWith('\r\n', at) ? 2 : 1));
      line(text);
    }
  }
  if (buffer) line(buffer);
  line('');
}

export function mountTail(root) {
  const error = alertBox('tail-error');
  const status = statusLine('tail-status');
  const form = h('form', { 'data-testid': 'tail-form', 'aria-label': 'Tail filters' },
    filterFields('t', ['agent', 'verb', 'activity', 'registration', 'related_activities', 'related_agents']),
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', 'data-testid': 'tail-apply' }, 'Apply filters')));
  const pause = h('button', { type: 'button', 'data-testid': 'tail-pause', 'aria-pressed': 'false' }, 'Pause');
  const clear = h('button', { type: 'button', 'data-testid': 'tail-clear' }, 'Clear');
  const list = h('ol', { class: 'tail-list', 'data-testid': 'tail-list', 'aria-label': 'Arriving statements, newest first' });
  const empty = h('p', { class: 'empty', 'data-testid': 'tail-empty' }, 'Waiting for statements…');
  const detail = h('aside', { class: 'detail panel', 'data-testid': 'statement-detail', 'aria-label': 'Statement detail', hidden: true });
  fill(root,
    h('section', { class: 'panel' }, form),
    error.node,
    h('div', { class: 'actions' }, pause, clear, status),
    h('div', { class: 'split' }, h('div', {}, empty, list), detail));

  let controller = null;
  let paused = false;
  let held = [];
  let received = 0;
  let retry = null;
  let params = new URLSearchParams();
  let stopped = false;

  function item(statement) {
    const open = h('button', { type: 'button', class: 'link-button', 'data-testid': 'tail-open' }, statement.id);
    open.addEventListener('click', () => showDetail(detail, statement));
    return h('li', { 'data-testid': 'tail-item', 'data-id': statement.id },
      h('div', {}, h('strong', {}, agentText(statement.actor)), ' ', verbText(statement.verb), ' ',
        h('span', { class: 'mono' }, objectText(statement.object))),
      h('div', { class: 'meta' }, when(statement.stored), ' · ', open));
  }

  function add(statement) {
    if (paused) {
      held.push(statement);
      if (held.length > KEEP) held = held.slice(-KEEP);
      showStatus();
      return;
    }
    list.prepend(item(statement));
    while (list.children.length > KEEP) list.lastElementChild.remove();
    empty.hidden = true;
  }

  function showStatus(text) {
    const parts = [text || (controller ? 'Connected' : 'Disconnected'), `${num(received)} received`];
    if (paused) parts.push(`paused, ${num(held.length)} waiting`);
    status.textContent = parts.join(' · ');
  }

  async function connect() {
    clearTimeout(retry);
    if (controller) controller.abort();
    if (stopped) return;
    const mine = new AbortController();
    controller = mine;
    error.clear();
    showStatus('Connecting…');
    try {
      const query = params.toString();
      const response = await api(`/console/api/tail${query ? `?${query}` : ''}`, { signal: mine.signal, raw: true });
      showStatus('Connected');
      await readEvents(response, ({ event, data }) => {
        if (event === 'statement') {
          try {
            received += 1;
            add(JSON.parse(data));
          } catch (e) {
            error.show(`A statement event could not be read: ${e.message}`);
          }
        } else if (event === 'error') {
          let message = data;
          try {
            message = JSON.parse(data).message || data;
          } catch {
            /* not JSON: shown as is */
          }
          error.show(message);
        }
        showStatus('Connected');
      });
      if (controller !== mine) return;
      controller = null;
      showStatus('The stream ended; reconnecting…');
      retry = setTimeout(connect, RECONNECT_MS);
    } catch (e) {
      if (e.name === 'AbortError' || controller !== mine) return;
      controller = null;
      error.show(e);
      // A refused request (bad filter, no right) is not retried; a lost connection is.
      if (e instanceof ApiError && e.status >= 400 && e.status < 500) {
        showStatus('Stopped');
      } else {
        showStatus('Disconnected; reconnecting…');
        retry = setTimeout(connect, RECONNECT_MS);
      }
    }
  }

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    try {
      params = filterParams(form);
    } catch (err) {
      error.show(err);
      return;
    }
    list.replaceChildren();
    held = [];
    empty.hidden = false;
    connect();
  });
  pause.addEventListener('click', () => {
    paused = !paused;
    pause.textContent = paused ? 'Resume' : 'Pause';
    pause.setAttribute('aria-pressed', String(paused));
    if (!paused) {
      const waiting = held;
      held = [];
      for (const statement of waiting) add(statement);
    }
    showStatus();
  });
  clear.addEventListener('click', () => {
    list.replaceChildren();
    held = [];
    empty.hidden = false;
    showStatus();
  });
  connect();
  return () => {
    stopped = true;
    clearTimeout(retry);
    if (controller) controller.abort();
    controller = null;
  };
}

// ----- refused requests ------------------------------------------------------------------

export function mountRefusals(root) {
  const error = alertBox('refusals-error');
  const status = statusLine('refusals-status');
  const auto = h('input', { type: 'checkbox', id: 'refusals-auto', 'data-testid': 'refusals-auto', checked: true });
  const refresh = h('button', { type: 'button', 'data-testid': 'refusals-refresh' }, 'Refresh now');
  const list = h('div', { 'data-testid': 'refusals' });
  fill(root,
    h('p', {}, 'Requests the server refused in the last minutes, newest first (the console\'s own are not listed).'),
    h('div', { class: 'actions' },
      h('label', { class: 'check', for: 'refusals-auto' }, auto, ' Refresh every 5 s'), refresh, status),
    error.node,
    list);

  let timer = null;
  let stopped = false;

  async function load() {
    clearTimeout(timer);
    try {
      const answer = await api('/console/api/refusals');
      if (stopped) return;
      error.clear();
      const refusals = (answer && answer.refusals) || [];
      status.textContent = `${num(refusals.length)} refused · updated ${new Date().toLocaleTimeString()}`;
      fill(list, refusals.length
        ? h('div', { class: 'table-wrap' }, h('table', { 'data-testid': 'refusals-table' },
          h('thead', {}, h('tr', {}, ['When', 'Message', 'Request', 'Status', 'Key', 'Request id']
            .map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, refusals.map((r) => h('tr', { 'data-testid': 'refusal-row' },
            h('td', {}, when(r.at)),
            h('td', {}, h('div', { class: 'message', 'data-testid': 'refusal-message' }, r.message || '–'),
              h('small', { class: 'hint' }, r.error, r.field ? ` · field ${r.field}` : '')),
            h('td', { class: 'id' }, `${r.method} ${r.path}`),
            h('td', { class: 'num' }, r.status),
            h('td', { class: 'id' }, r.key || '–'),
            h('td', { class: 'id' }, r.request_id || '–'))))))
        : h('p', { class: 'empty' }, 'No request refused in the last minutes.'));
    } catch (e) {
      if (stopped) return;
      error.show(e);
    }
    if (!stopped && auto.checked) timer = setTimeout(load, 5000);
  }

  auto.addEventListener('change', () => {
    clearTimeout(timer);
    if (auto.checked) load();
  });
  refresh.addEventListener('click', load);
  load();
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
