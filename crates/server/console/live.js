// Live view: polls GET <base>/console/api/live every 2 s and shows rates computed from the
// differences between two answers, the store's and plugins' health, the forwarding queues, a
// chart of the last five minutes and the refusals by reason.

import { api, h, fill, alertBox, num, duration, pick, when } from './api.js';

const EVERY_MS = 2000;
const WINDOW_S = 300;
const SVG = 'http://www.w3.org/2000/svg';

// Kept across visits of the page, so the chart does not start empty each time.
const history = []; // {t: seconds, stored: /s, refused: /s}
let previous = null;

function sumRequests(requests) {
  let total = 0;
  for (const classes of Object.values(requests || {})) {
    for (const n of Object.values(classes || {})) total += Number(n) || 0;
  }
  return total;
}

function sample(answer) {
  return {
    t: Number(answer.now_micros) / 1e6 || Date.now() / 1000,
    stored: Number(pick(answer, 'statements.stored')) || 0,
    refused: Number(pick(answer, 'statements.rejected', 'statements.refused')) || 0,
    requests: sumRequests(answer.requests),
    latencyCount: Number(pick(answer, 'latency.count')) || 0,
    latencySum: Number(pick(answer, 'latency.sum_seconds')) || 0,
  };
}

/** Rates between two samples; null when there is no earlier one (or the server restarted). */
function rates(before, now) {
  if (!before) return null;
  const dt = now.t - before.t;
  if (dt <= 0 || now.stored < before.stored || now.requests < before.requests) return null;
  const calls = now.latencyCount - before.latencyCount;
  return {
    t: now.t,
    stored: (now.stored - before.stored) / dt,
    refused: (now.refused - before.refused) / dt,
    requests: (now.requests - before.requests) / dt,
    latency: calls > 0 ? (now.latencySum - before.latencySum) / calls : null,
  };
}

function card(label, testid) {
  const value = h('div', { class: 'value', 'data-testid': testid }, '–');
  return { node: h('div', { class: 'card' }, h('div', { class: 'label' }, label), value), value };
}

function svg(tag, attrs = {}) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  return node;
}

/** Draws stored/s and refused/s of the last five minutes as an inline SVG line chart. */
function drawChart(target) {
  // Drawn at the box's own width, so the text is never stretched.
  const width = Math.max(280, Math.round(target.clientWidth) || 800);
  const height = 220;
  const pad = { left: 44, right: 10, top: 10, bottom: 24 };
  const now = history.length ? history[history.length - 1].t : Date.now() / 1000;
  const from = now - WINDOW_S;
  const points = history.filter((p) => p.t >= from);
  const top = Math.max(1, ...points.map((p) => Math.max(p.stored, p.refused)));
  const scale = niceCeiling(top);
  const x = (t) => pad.left + ((t - from) / WINDOW_S) * (width - pad.left - pad.right);
  const y = (v) => height - pad.bottom - (v / scale) * (height - pad.top - pad.bottom);
  const chart = svg('svg', {
    viewBox: `0 0 ${width} ${height}`,
    class: 'chart',
    role: 'img',
    'data-testid': 'live-chart',
    'aria-label': `Statements stored and refused per second over the last 5 minutes; latest ${
      points.length ? `${num(points[points.length - 1].stored, 1)} stored/s, ${num(points[points.length - 1].refused, 1)} refused/s` : 'not measured yet'}`,
  });
  for (let i = 0; i <= 4; i += 1) {
    const v = (scale * i) / 4;
    chart.append(svg('line', { x1: pad.left, x2: width - pad.right, y1: y(v), y2: y(v), class: 'axis' }));
    const label = svg('text', { x: pad.left - 6, y: y(v) + 4, 'text-anchor': 'end' });
    label.textContent = num(v, 1);
    chart.append(label);
  }
  for (let m = 0; m <= 5; m += 1) {
    if (width < 500 && m % 2 === 0) continue; // narrow: every other minute
    const label = svg('text', { x: x(from + m * 60), y: height - 6, 'text-anchor': m === 0 ? 'start' : m === 5 ? 'end' : 'middle' });
    label.textContent = m === 5 ? 'now' : `−${5 - m} min`;
    chart.append(label);
  }
  for (const series of ['stored', 'refused']) {
    if (points.length < 2) continue;
    const d = points.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p[series]).toFixed(1)}`).join(' ');
    chart.append(svg('path', { d, class: series }));
  }
  target.replaceChildren(chart);
}

function niceCeiling(v) {
  const power = 10 ** Math.floor(Math.log10(v));
  for (const step of [1, 2, 5, 10]) if (v <= step * power) return step * power;
  return 10 * power;
}

function table(headers, rows, testid, empty) {
  if (!rows.length) return h('p', { class: 'empty', 'data-testid': testid }, empty);
  return h('div', { class: 'table-wrap' },
    h('table', { 'data-testid': testid },
      h('thead', {}, h('tr', {}, headers.map(([text, cls]) => h('th', { scope: 'col', class: cls }, text)))),
      h('tbody', {}, rows.map((cells) => h('tr', {}, cells.map(([value, cls]) => h('td', { class: cls }, value))))),
    ));
}

export function mount(root) {
  const error = alertBox('live-error');
  const cards = {
    stored: card('Statements stored / s', 'live-stored-rate'),
    refused: card('Statements refused / s', 'live-refused-rate'),
    requests: card('Requests / s', 'live-request-rate'),
    latency: card('Mean latency', 'live-latency'),
    store: card('Store', 'live-store'),
    total: card('Stored since start', 'live-stored-total'),
  };
  const chart = h('div', { 'data-testid': 'live-chart-box' });
  const plugins = h('div');
  const forwarding = h('div');
  const refusals = h('div');
  const admissions = h('div');
  const updated = h('p', { class: 'status', 'data-testid': 'live-updated' });
  fill(root,
    error.node,
    h('div', { class: 'cards', 'data-testid': 'live-cards' }, Object.values(cards).map((c) => c.node)),
    h('section', { class: 'panel', 'aria-labelledby': 'chart-title' },
      h('h2', { id: 'chart-title' }, 'Statements per second, last 5 minutes'),
      h('div', { class: 'legend', 'aria-hidden': 'true' },
        h('span', {}, h('span', { class: 'swatch stored-swatch' }), 'stored'),
        h('span', {}, h('span', { class: 'swatch refused-swatch' }), 'refused')),
      chart),
    h('div', { class: 'two' },
      h('section', { 'aria-labelledby': 'refusal-title' }, h('h2', { id: 'refusal-title' }, 'Refusals by reason (since start)'), refusals),
      h('section', { 'aria-labelledby': 'plugin-title' }, h('h2', { id: 'plugin-title' }, 'Plugins'), plugins)),
    h('div', { class: 'two' },
      h('section', { 'aria-labelledby': 'fwd-title' }, h('h2', { id: 'fwd-title' }, 'Forwarding'), forwarding),
      h('section', { 'aria-labelledby': 'adm-title' },
        h('h2', { id: 'adm-title' }, 'Admitted despite a rule (since start)'), admissions)),
    updated,
  );
  let stopped = false;
  let timer = null;

  async function poll() {
    timer = null;
    if (stopped) return;
    if (!document.hidden) {
      try {
        const answer = await api('/console/api/live');
        if (stopped) return;
        error.clear();
        show(answer);
      } catch (e) {
        if (stopped) return;
        error.show(e);
      }
    }
    if (!stopped) timer = setTimeout(poll, EVERY_MS);
  }

  function show(answer) {
    const now = sample(answer);
    const rate = rates(previous, now);
    previous = now;
    if (rate) {
      history.push(rate);
      while (history.length && history[0].t < rate.t - WINDOW_S) history.shift();
      cards.stored.value.textContent = num(rate.stored, 1);
      cards.refused.value.textContent = num(rate.refused, 1);
      cards.requests.value.textContent = num(rate.requests, 1);
      cards.latency.value.textContent = rate.latency === null ? 'no requests' : `${num(rate.latency * 1000, 1)} ms`;
    } else {
      for (const c of [cards.stored, cards.refused, cards.requests, cards.latency]) c.value.textContent = 'measuring…';
    }
    cards.refused.value.classList.toggle('bad', Boolean(rate && rate.refused > 0));
    const store = answer.store || {};
    cards.store.value.className = `value small ${store.answers === false ? 'bad' : 'ok'}`;
    cards.store.value.textContent = `${store.kind || 'store'}: ${store.answers === false ? `failing (${store.error || 'no answer'})` : 'answers'}`;
    cards.total.value.textContent = num(now.stored);
    drawChart(chart);

    const reasons = Array.isArray(answer.refusals) ? [...answer.refusals] : [];
    reasons.sort((a, b) => (b.count || 0) - (a.count || 0));
    fill(refusals, table(
      [['Status'], ['Error'], ['Field'], ['Count', 'num']],
      reasons.map((r) => [[r.status], [r.error], [r.field || '–', 'id'], [num(r.count), 'num']]),
      'live-refusals', 'No request refused since start.'));

    const list = Array.isArray(answer.plugins) ? answer.plugins : [];
    fill(plugins, table(
      [['Plugin'], ['Kind'], ['Calls', 'num'], ['Failures', 'num'], ['Last failure']],
      list.map((p) => [
        [p.name],
        [p.serving === false ? `not serving: ${p.last_error || '?'}` : p.kind || '–'],
        [num(p.calls), 'num'],
        [h('span', { class: p.failures ? 'bad' : '' }, num(p.failures)), 'num'],
        [p.last_failure ? h('span', {}, when(p.last_failure.at), ' ', p.last_failure.message) : '–'],
      ]),
      'live-plugins', 'No plugin loaded.'));

    const admitted = Array.isArray(answer.admissions) ? answer.admissions : [];
    fill(admissions, table(
      [['Plugin'], ['Rule'], ['How'], ['Count', 'num']],
      admitted.map((a) => [[a.plugin], [a.rule, 'id'], [a.how], [num(a.count), 'num']]),
      'live-admissions', 'No statement admitted by an admission plugin.'));

    const targets = Array.isArray(answer.forwarding) ? answer.forwarding : [];
    fill(forwarding, table(
      [['Target'], ['Waiting', 'num'], ['Forwarded', 'num'], ['Refused', 'num'], ['Lag', 'num']],
      targets.map((t) => [[t.target, 'id'], [num(t.waiting), 'num'], [num(t.forwarded), 'num'],
        [h('span', { class: t.refused ? 'bad' : '' }, num(t.refused)), 'num'], [duration(t.lag_seconds), 'num']]),
      'live-forwarding', 'Forwarding is not configured.'));

    updated.textContent = `Updated ${new Date().toLocaleTimeString()} · every ${EVERY_MS / 1000} s` +
      (answer.uptime_seconds !== undefined ? ` · up ${duration(answer.uptime_seconds)}` : '');
  }

  drawChart(chart);
  poll();
  const wake = () => {
    if (!document.hidden && !timer && !stopped) poll();
  };
  document.addEventListener('visibilitychange', wake);
  return () => {
    stopped = true;
    clearTimeout(timer);
    document.removeEventListener('visibilitychange', wake);
  };
}
