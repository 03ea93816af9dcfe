// Plugins: GET <base>/admin/plugins listed by kind then order; upload (PUT, multipart: `wasm`
// and `manifest`), disable, enable and remove.

import { api, h, fill, alertBox, statusLine, field, num, when, confirmDialog } from './api.js';

const KINDS = ['validator', 'admission', 'transformer', 'backend', 'reactor'];

/** The rules an admission plugin may waive, at most: those the LRS can look past. */
const WAIVABLE = ['object-type', 'iri', 'activity-id', 'score'];

function kindRank(kind) {
  const at = KINDS.indexOf(kind);
  return at < 0 ? KINDS.length : at;
}

const path = (name) => `/admin/plugins/${encodeURIComponent(name)}`;

export function mount(root) {
  const error = alertBox('plugins-error');
  const status = statusLine('plugins-status');
  const info = h('p', { class: 'hint', 'data-testid': 'plugins-dir' });
  const list = h('div', { 'data-testid': 'plugins' });
  const disabledList = h('div', { 'data-testid': 'plugins-disabled' });

  const name = h('input', { name: 'name', id: 'plugin-name', 'data-testid': 'plugin-name', required: true,
    pattern: '[A-Za-z0-9_\\-]+', spellcheck: 'false', autocomplete: 'off' });
  const wasm = h('input', { type: 'file', name: 'wasm', id: 'plugin-wasm', 'data-testid': 'plugin-wasm',
    accept: '.wasm,application/wasm', required: true });
  const manifestFile = h('input', { type: 'file', id: 'plugin-manifest-file', 'data-testid': 'plugin-manifest-file', accept: '.toml,text/plain' });
  const manifest = h('textarea', { name: 'manifest', id: 'plugin-manifest', 'data-testid': 'plugin-manifest', rows: 6,
    spellcheck: 'false', placeholder: 'kind = "validator"\norder = 5\n\n[config]\nmax_bytes = 65536' });
  const upload = h('button', { type: 'submit', class: 'primary', 'data-testid': 'plugin-upload' }, 'Upload');
  const uploadError = alertBox('plugin-upload-error');
  const uploadStatus = statusLine('plugin-upload-status');
  const form = h('form', { 'data-testid': 'plugin-form', 'aria-labelledby': 'upload-title' },
    h('h2', { id: 'upload-title' }, 'Upload a plugin'),
    h('div', { class: 'grid' },
      field('Name', name, 'Letters, digits, "-" and "_"; an existing plugin of this name is replaced.'),
      field('Component (.wasm)', wasm)),
    field('Manifest (TOML, optional)', manifest, 'Or load it from a file below; empty keeps the manifest the plugin has (a new plugin then runs with the defaults).'),
    field('Manifest file (.toml, optional)', manifestFile),
    uploadError.node,
    h('div', { class: 'actions' }, upload, uploadStatus));

  fill(root,
    info,
    error.node,
    status,
    list,
    h('h2', {}, 'Disabled plugins'),
    disabledList,
    h('section', { class: 'panel' }, form));

  let stopped = false;

  manifestFile.addEventListener('change', async () => {
    const file = manifestFile.files[0];
    if (file) manifest.value = await file.text();
  });
  wasm.addEventListener('change', () => {
    const file = wasm.files[0];
    if (file && !name.value) name.value = file.name.replace(/\.wasm$/, '');
  });

  async function load() {
    try {
      const answer = await api('/admin/plugins');
      if (stopped) return;
      error.clear();
      show(answer || {});
    } catch (e) {
      if (!stopped) error.show(e);
    }
  }

  async function act(button, method, target, question, done) {
    if (question && !(await confirmDialog(question, { confirm: button.textContent }))) return;
    button.disabled = true;
    error.clear();
    try {
      await api(target, { method });
      status.textContent = done;
    } catch (e) {
      error.show(e);
    } finally {
      button.disabled = false;
    }
    await load();
  }

  function show(answer) {
    const wits = Array.isArray(answer.wit) ? answer.wit.join(', ') : answer.wit;
    info.textContent = [answer.dir ? `Plugin folder: ${answer.dir}` : '', wits ? `Contracts: ${wits}` : '']
      .filter(Boolean).join(' · ');
    const plugins = Array.isArray(answer.plugins) ? [...answer.plugins] : [];
    plugins.sort((a, b) => kindRank(a.kind) - kindRank(b.kind) || String(a.kind).localeCompare(String(b.kind))
      || (a.order ?? 0) - (b.order ?? 0) || String(a.name).localeCompare(String(b.name)));
    fill(list, plugins.length
      ? h('div', { class: 'table-wrap' }, h('table', { 'data-testid': 'plugins-table' },
        h('thead', {}, h('tr', {}, [['Name'], ['Kind'], ['Order', 'num'], ['Contract'], ['Calls', 'num'],
          ['Failures', 'num'], ['Busy', 'num'], ['Loaded'], ['State'], ['']]
          .map(([t, c]) => h('th', { scope: 'col', class: c }, t)))),
        h('tbody', {}, plugins.map(pluginRow))))
      : h('p', { class: 'empty' }, 'No plugin loaded.'));
    const disabled = Array.isArray(answer.disabled) ? answer.disabled : [];
    fill(disabledList, disabled.length
      ? h('div', { class: 'table-wrap' }, h('table', { 'data-testid': 'plugins-disabled-table' },
        h('thead', {}, h('tr', {}, ['Name', 'File', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, disabled.map((d) => {
          const enable = h('button', { type: 'button', class: 'small', 'data-testid': 'plugin-enable' }, 'Enable');
          const remove = h('button', { type: 'button', class: 'small danger', 'data-testid': 'plugin-remove' }, 'Remove');
          enable.addEventListener('click', () => act(enable, 'POST', `${path(d.name)}/enable`, null, `Enabled ${d.name}.`));
          remove.addEventListener('click', () => act(remove, 'DELETE', path(d.name),
            `Remove plugin ${d.name}? Its files are deleted.`, `Removed ${d.name}.`));
          return h('tr', { 'data-testid': 'plugin-disabled-row', 'data-name': d.name },
            h('td', {}, d.name), h('td', { class: 'id' }, d.file || '–'),
            h('td', {}, h('div', { class: 'actions' }, enable, remove)));
        }))))
      : h('p', { class: 'empty' }, 'None.'));
  }

  function pluginRow(p) {
    const disable = h('button', { type: 'button', class: 'small', 'data-testid': 'plugin-disable' }, 'Disable');
    const remove = h('button', { type: 'button', class: 'small danger', 'data-testid': 'plugin-remove' }, 'Remove');
    disable.addEventListener('click', () => act(disable, 'POST', `${path(p.name)}/disable`,
      `Disable plugin ${p.name}? It stops taking part until enabled again.`, `Disabled ${p.name}.`));
    remove.addEventListener('click', () => act(remove, 'DELETE', path(p.name),
      `Remove plugin ${p.name}? Its files are deleted.`, `Removed ${p.name}.`));
    const failure = p.last_failure
      ? h('div', { class: 'hint' }, 'Last failure ', when(p.last_failure.at), ': ', p.last_failure.message)
      : null;
    const state = p.serving === false
      ? h('span', { class: 'bad' }, `not serving${p.last_error ? `: ${p.last_error}` : ''}`)
      : h('span', { class: 'ok' }, 'serving');
    const row = h('tr', { 'data-testid': 'plugin-row', 'data-name': p.name },
      h('td', {}, h('strong', {}, p.name), h('div', { class: 'hint id', title: p.hash || '' }, p.file || '')),
      h('td', {}, p.kind || '–'),
      h('td', { class: 'num' }, p.order ?? '–'),
      h('td', {}, p.wit || '–'),
      h('td', { class: 'num' }, num(p.calls)),
      h('td', { class: 'num' }, h('span', { class: p.failures ? 'bad' : '' }, num(p.failures)), failure),
      h('td', { class: 'num' }, p.busy_seconds === undefined || p.busy_seconds === null ? '–' : `${num(p.busy_seconds, 3)} s`),
      h('td', {}, when(p.loaded_at)),
      h('td', {}, state),
      h('td', {}, h('div', { class: 'actions' }, disable, remove)));
    return p.kind === 'admission' ? [row, waiverRow(p)] : row;
  }

  /** An admission plugin's waivers: which rules it may waive (all the LRS can look past when none is set). */
  function waiverRow(p) {
    const allowed = Array.isArray(p.waive) ? p.waive : WAIVABLE;
    const boxes = WAIVABLE.map((rule) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: rule, checked: allowed.includes(rule), 'data-testid': `waive-${rule}` }),
      ` ${rule}`));
    const save = h('button', { type: 'button', class: 'small', 'data-testid': 'waivers-save' }, 'Save waivers');
    save.addEventListener('click', async () => {
      const chosen = boxes.map((b) => b.querySelector('input')).filter((i) => i.checked).map((i) => i.value);
      const waive = chosen.length === WAIVABLE.length ? null : chosen;
      save.disabled = true;
      error.clear();
      try {
        await api(`${path(p.name)}/waivers`, { method: 'PUT', json: { waive } });
        status.textContent = `${p.name} may waive ${waive === null ? 'every rule the LRS can look past' : (waive.join(', ') || 'no rule')}.`;
      } catch (e) {
        error.show(e);
      } finally {
        save.disabled = false;
      }
      await load();
    });
    return h('tr', { class: 'sub', 'data-testid': 'plugin-waivers', 'data-name': p.name },
      h('td', { colspan: '10' },
        h('fieldset', { class: 'inline' },
          h('legend', {}, `Rules ${p.name} may waive (statements it admits as sent)`),
          boxes, save)));
  }

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    uploadError.clear();
    const file = wasm.files[0];
    if (!name.value.trim() || !file) {
      uploadError.show('Give a name and choose a .wasm file.');
      return;
    }
    const body = new FormData();
    body.append('wasm', file, file.name);
    if (manifest.value.trim()) body.append('manifest', manifest.value);
    upload.disabled = true;
    uploadStatus.textContent = 'Uploading…';
    try {
      const answer = await api(path(name.value.trim()), { method: 'PUT', body });
      const plugin = (answer && answer.plugin) || {};
      uploadStatus.textContent = `Uploaded ${plugin.name || name.value}${plugin.kind ? ` (${plugin.kind})` : ''}.`;
      form.reset();
    } catch (err) {
      uploadStatus.textContent = '';
      uploadError.show(err);
    } finally {
      upload.disabled = false;
    }
    await load();
  });

  load();
  const timer = setInterval(() => {
    if (!document.hidden) load();
  }, 10000);
  return () => {
    stopped = true;
    clearInterval(timer);
  };
}
