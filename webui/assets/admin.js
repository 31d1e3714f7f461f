// Strongbox web UI: the Admin page, one tab per concern: users and groups, collections and their
// grants, system (model, self-test, index, disk), settings (validated by the server, errors shown
// beside each field) and image updates. Above the tabs, a banner says when the appliance is
// read-only because its disk is full, and why: every change on these tabs is refused until then.
import { get, post, put, patch, del, request } from './api.js';
import { language, t } from './i18n.js';
import { h, clear, errorText, field, keyValues, toast, confirmButton, formatBytes, formatNumber, formatTime, emptyRow, setNotice } from './ui.js';

const TABS = ['users', 'collections', 'system', 'settings', 'update'];
const ROLES = ['staff', 'auditor', 'admin'];

export function renderAdmin(root, ctx) {
  const tab = TABS.includes(ctx.params[0]) ? ctx.params[0] : 'users';
  const tabs = h('nav', { class: 'tabs', 'aria-label': t('nav.admin') }, TABS.map((name) => h('a', {
    href: `#/admin/${name}`, id: `tab-${name}`, class: name === tab ? 'active' : null,
    'aria-current': name === tab ? 'page' : null, text: t(`admin.tab.${name}`),
  })));
  const panel = h('div', { class: 'tab-panel', id: `admin-${tab}` });
  const banner = h('div', { class: 'notice notice-warn', role: 'status', id: 'read-only-banner', hidden: true });
  root.append(h('div', { class: 'page-head' }, h('h1', { text: t('nav.admin') })), banner, tabs, panel);
  const render = { users: usersTab, collections: collectionsTab, system: systemTab, settings: settingsTab, update: updateTab }[tab];
  render(panel, ctx);
  showReadOnly(banner);
}

// Fills the banner from the status endpoint's disk.read_only and disk.reason; stays hidden while
// writable or when the status cannot be read (the system tab shows that error).
async function showReadOnly(banner) {
  try {
    const disk = (await get('/api/v1/admin/status')).disk || {};
    if (!disk.read_only) return;
    clear(banner, h('strong', { text: t('admin.read_only_title') }), ' ',
      h('span', { text: t('admin.read_only_body') }), ' ',
      h('span', { id: 'read-only-reason', text: t('admin.read_only_reason', { reason: disk.reason || '', since: formatTime(disk.since) }) }));
    banner.hidden = false;
  } catch (err) {
    banner.hidden = true;
  }
}

function formError() {
  return h('div', { class: 'notice notice-error', role: 'alert', hidden: true });
}

// ---- users and groups ----
function usersTab(panel, ctx) {
  let groups = [];
  const tbody = h('tbody', { id: 'users' });
  const groupList = h('ul', { id: 'groups', class: 'chips' });

  const name = h('input', { id: 'new-user-name', autocomplete: 'off', required: true });
  const password = h('input', { id: 'new-user-password', type: 'password', autocomplete: 'new-password', required: true });
  const role = h('select', { id: 'new-user-role' }, ROLES.map((r) => h('option', { value: r, text: t(`role.${r}`) })));
  const groupBoxes = h('div', { class: 'checks', id: 'new-user-groups' });
  const addError = formError();
  const addUser = h('form', { class: 'form-grid', id: 'add-user' },
    field(t('field.user_name'), name), field(t('field.password'), password), field(t('admin.role'), role),
    h('fieldset', { class: 'field' }, h('legend', { text: t('admin.groups') }), groupBoxes),
    h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'button primary', text: t('admin.add_user') })), addError);

  const groupName = h('input', { id: 'new-group-name', autocomplete: 'off', required: true });
  const groupError = formError();
  const addGroup = h('form', { class: 'inline-form', id: 'add-group' }, field(t('admin.group_name'), groupName),
    h('button', { type: 'submit', class: 'button', text: t('admin.add_group') }), groupError);

  panel.append(
    h('section', { class: 'card' }, h('h2', { text: t('admin.users') }),
      h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
        h('thead', {}, h('tr', {}, ['field.user_name', 'admin.role', 'admin.groups', 'admin.state', 'docs.actions']
          .map((key) => h('th', { scope: 'col', text: t(key) })))), tbody))),
    h('div', { class: 'two-col' },
      h('section', { class: 'card' }, h('h2', { text: t('admin.add_user') }), addUser),
      h('section', { class: 'card' }, h('h2', { text: t('admin.groups') }), groupList, addGroup)));

  async function load() {
    try {
      const [u, g] = await Promise.all([get('/api/v1/users'), get('/api/v1/groups')]);
      groups = (g.groups || []).map((x) => (typeof x === 'string' ? x : x.name));
      clear(groupList, groups.length ? groups.map((x) => h('li', { class: 'chip', text: x })) : h('li', { class: 'muted', text: t('admin.no_groups') }));
      const checked = new Set([...groupBoxes.querySelectorAll('input:checked')].map((i) => i.value));
      clear(groupBoxes, groups.map((x) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', value: x, name: 'groups', props: { checked: checked.has(x) } }), x)));
      clear(tbody);
      const users = u.users || [];
      if (!users.length) tbody.append(emptyRow(5, t('admin.no_users')));
      for (const user of users) tbody.append(userRow(user));
    } catch (err) {
      clear(tbody, emptyRow(5, errorText(err)));
    }
  }

  async function change(user, body, done) {
    try {
      await patch(`/api/v1/users/${encodeURIComponent(user.name)}`, body);
      toast(done || t('common.saved'));
      await load();
    } catch (err) {
      toast(errorText(err), 'error');
    }
  }

  function userRow(user) {
    const self = user.name === ctx.user.name;
    const roleSelect = h('select', { 'aria-label': t('admin.role'), disabled: self },
      ROLES.map((r) => h('option', { value: r, text: t(`role.${r}`), props: { selected: r === user.role } })));
    roleSelect.addEventListener('change', () => change(user, { role: roleSelect.value }));
    const groupsInput = h('input', { value: (user.groups || []).join(', '), 'aria-label': t('admin.groups'), class: 'groups-input' });
    const saveGroups = h('button', { type: 'button', class: 'button ghost small', text: t('common.save') });
    saveGroups.addEventListener('click', () => change(user, {
      groups: groupsInput.value.split(',').map((s) => s.trim()).filter(Boolean),
    }));
    const newPassword = h('input', { type: 'password', autocomplete: 'new-password', placeholder: t('admin.new_password'), 'aria-label': t('admin.new_password'), class: 'password-input' });
    const setPassword = h('button', { type: 'button', class: 'button ghost small', text: t('admin.set_password') });
    setPassword.addEventListener('click', () => {
      if (newPassword.value) change(user, { password: newPassword.value }, t('admin.password_changed'));
    });
    const toggle = h('button', { type: 'button', class: 'button ghost small', disabled: self, text: user.disabled ? t('admin.enable') : t('admin.disable') });
    toggle.addEventListener('click', () => change(user, { disabled: !user.disabled }));
    const remove = self ? null : confirmButton(t('common.delete'), t('common.confirm_delete'), async () => {
      try {
        await del(`/api/v1/users/${encodeURIComponent(user.name)}`);
        toast(t('admin.user_deleted', { name: user.name }));
        await load();
      } catch (err) {
        toast(errorText(err), 'error');
      }
    });
    return h('tr', { data: { user: user.name } },
      h('td', { class: 'strong', text: user.name }), h('td', {}, roleSelect),
      h('td', {}, h('div', { class: 'inline' }, groupsInput, saveGroups)),
      h('td', {}, h('span', { class: `status-pill ${user.disabled ? 'removed' : 'active'}`, text: user.disabled ? t('admin.disabled') : t('admin.active') })),
      h('td', { class: 'actions' }, h('div', { class: 'inline' }, newPassword, setPassword), toggle, remove));
  }

  addUser.addEventListener('submit', async (event) => {
    event.preventDefault();
    setNotice(addError, 'error', '');
    const chosen = [...groupBoxes.querySelectorAll('input:checked')].map((i) => i.value);
    try {
      await post('/api/v1/users', { name: name.value.trim(), password: password.value, role: role.value, groups: chosen });
      toast(t('admin.user_added', { name: name.value.trim() }));
      addUser.reset();
      for (const box of groupBoxes.querySelectorAll('input')) box.checked = false;
      await load();
    } catch (err) {
      setNotice(addError, 'error', errorText(err));
    }
  });
  addGroup.addEventListener('submit', async (event) => {
    event.preventDefault();
    setNotice(groupError, 'error', '');
    try {
      await post('/api/v1/groups', { name: groupName.value.trim() });
      toast(t('admin.group_added', { name: groupName.value.trim() }));
      addGroup.reset();
      await load();
    } catch (err) {
      setNotice(groupError, 'error', errorText(err));
    }
  });
  load();
}

// ---- collections and grants ----
function collectionsTab(panel) {
  const list = h('div', { id: 'collections', class: 'collection-list' });
  const name = h('input', { id: 'new-collection-name', autocomplete: 'off', required: true });
  const error = formError();
  const add = h('form', { class: 'inline-form', id: 'add-collection' }, field(t('admin.collection_name'), name),
    h('button', { type: 'submit', class: 'button primary', text: t('admin.add_collection') }), error);
  panel.append(h('section', { class: 'card' }, h('h2', { text: t('admin.new_collection') }), add), list);

  async function load() {
    try {
      const [c, g] = await Promise.all([get('/api/v1/collections'), get('/api/v1/groups')]);
      const groups = (g.groups || []).map((x) => (typeof x === 'string' ? x : x.name));
      const collections = c.collections || [];
      clear(list);
      if (!collections.length) list.append(h('p', { class: 'card muted', text: t('docs.no_collections') }));
      for (const col of collections) list.append(grantsCard(col, groups));
    } catch (err) {
      clear(list, h('p', { class: 'notice notice-error', text: errorText(err) }));
    }
  }

  function grantsCard(col, groups) {
    const current = new Map((col.grants || []).map((g) => [g.group, g.access]));
    const rows = groups.map((group) => {
      const select = h('select', { 'aria-label': t('admin.access_for', { group }), data: { group } },
        ['none', 'read', 'write'].map((a) => h('option', { value: a, text: t(`admin.access.${a}`), props: { selected: (current.get(group) || 'none') === a } })));
      return h('tr', {}, h('td', { text: group }), h('td', {}, select));
    });
    const save = h('button', { type: 'button', class: 'button primary small', text: t('admin.save_grants') });
    const card = h('section', { class: 'card', data: { collection: col.name } },
      h('header', { class: 'card-head' }, h('h2', { text: col.name }),
        h('span', { class: 'muted', text: t('docs.count', { n: col.documents ?? 0 }) })),
      groups.length ? h('table', { class: 'table compact' }, h('thead', {}, h('tr', {},
        h('th', { text: t('admin.group_name') }), h('th', { text: t('admin.access_col') }))), h('tbody', {}, rows))
        : h('p', { class: 'muted', text: t('admin.no_groups') }),
      groups.length ? h('div', { class: 'form-actions' }, save) : null);
    save.addEventListener('click', async () => {
      const grants = [...card.querySelectorAll('select[data-group]')]
        .filter((s) => s.value !== 'none').map((s) => ({ group: s.dataset.group, access: s.value }));
      try {
        await put(`/api/v1/collections/${encodeURIComponent(col.name)}/grants`, { grants });
        toast(t('admin.grants_saved', { name: col.name }));
      } catch (err) {
        toast(errorText(err), 'error');
      }
    });
    return card;
  }

  add.addEventListener('submit', async (event) => {
    event.preventDefault();
    setNotice(error, 'error', '');
    try {
      await post('/api/v1/collections', { name: name.value.trim() });
      toast(t('admin.collection_added', { name: name.value.trim() }));
      add.reset();
      await load();
    } catch (err) {
      setNotice(error, 'error', errorText(err));
    }
  });
  load();
}

// ---- system ----
function systemTab(panel) {
  const body = h('div', { class: 'system-grid', id: 'system' }, h('p', { class: 'muted', text: t('common.loading') }));
  const selftestOut = h('div', { id: 'selftest' });
  const run = h('button', { type: 'button', class: 'button primary', id: 'run-selftest', text: t('admin.run_selftest') });
  panel.append(body, h('section', { class: 'card' }, h('header', { class: 'card-head' }, h('h2', { text: t('admin.selftest') }), run), selftestOut));

  function selftest(report) {
    if (!report) return h('p', { class: 'muted', text: t('admin.selftest_none') });
    const checks = Array.isArray(report.checks) ? report.checks : [];
    const ok = report.ok ?? report.passed ?? checks.every((c) => c.ok !== false && c.passed !== false);
    return h('div', {}, h('p', { class: `notice notice-${ok ? 'ok' : 'error'}`, text: ok ? t('admin.selftest_ok') : t('admin.selftest_failed') }),
      checks.length ? h('ul', { class: 'checklist' }, checks.map((c) => h('li', { class: c.ok === false || c.passed === false ? 'bad' : 'good' },
        h('strong', { text: c.name || '' }), ' ', h('span', { class: 'muted', text: c.detail || c.message || '' })))) : keyValues(Object.entries(report)));
  }

  async function load() {
    try {
      const s = await get('/api/v1/admin/status');
      const disk = s.disk || {};
      const used = disk.total_bytes ? disk.total_bytes - disk.free_bytes : 0;
      clear(body,
        h('section', { class: 'card' }, h('h2', { text: t('admin.model') }), keyValues(Object.entries(s.model || {}))),
        h('section', { class: 'card' }, h('h2', { text: t('admin.index') }), keyValues([
          [t('admin.documents'), formatNumber(s.index && s.index.documents)], [t('admin.chunks'), formatNumber(s.index && s.index.chunks)],
          [t('admin.vectors'), formatNumber(s.index && s.index.vectors)]])),
        h('section', { class: 'card' }, h('h2', { text: t('admin.disk') }),
          disk.total_bytes ? h('progress', { id: 'disk-usage', max: disk.total_bytes, value: used, 'aria-label': t('admin.disk') }) : null,
          keyValues([[t('admin.disk_free'), formatBytes(disk.free_bytes)], [t('admin.disk_total'), formatBytes(disk.total_bytes)],
            [t('admin.disk_mode'), disk.read_only ? t('admin.disk_read_only', { since: formatTime(disk.since) }) : t('admin.disk_writable')],
            [t('admin.disk_reason'), disk.read_only ? disk.reason : null]])),
        h('section', { class: 'card' }, h('h2', { text: t('admin.fingerprint') }),
          h('code', { class: 'fingerprint', text: typeof s.fingerprint === 'string' ? s.fingerprint : JSON.stringify(s.fingerprint ?? '') })));
      clear(selftestOut, selftest(s.selftest));
    } catch (err) {
      clear(body, h('p', { class: 'notice notice-error', text: errorText(err) }));
    }
  }
  run.addEventListener('click', async () => {
    run.disabled = true;
    clear(selftestOut, h('div', { class: 'progress' }, h('span', { class: 'spinner' }), t('admin.selftest_running')));
    try {
      clear(selftestOut, selftest(await post('/api/v1/admin/selftest')));
    } catch (err) {
      clear(selftestOut, h('p', { class: 'notice notice-error', text: errorText(err) }));
    } finally {
      run.disabled = false;
    }
  });
  load();
}

// ---- settings ----
function settingsTab(panel) {
  const form = h('form', { id: 'settings-form', class: 'form-grid settings', novalidate: true });
  const status = h('div', { class: 'notice', hidden: true, id: 'settings-status' });
  const save = h('button', { type: 'submit', class: 'button primary', id: 'settings-save', text: t('common.save') });
  panel.append(h('section', { class: 'card' }, h('h2', { text: t('admin.tab.settings') }),
    h('p', { class: 'muted', text: t('admin.settings_intro') }), form, h('div', { class: 'form-actions' }, save), status));
  let version = null;
  let fields = new Map();  // setting path -> { wrapper, read }

  // `spec`: the server's declaration of the setting (label, help and unit in both languages, range).
  function control(path, value, spec) {
    const lang = language();
    const label = spec ? `${spec.label[lang] || spec.label.en}${spec.unit ? ` (${spec.unit})` : ''}` : path;
    const hint = spec ? `${spec.help[lang] || spec.help.en} [${path}]` : null;
    let input;
    let read;
    if (typeof value === 'boolean') {
      input = h('input', { type: 'checkbox', props: { checked: value } });
      read = () => input.checked;
    } else if (typeof value === 'number') {
      input = h('input', { type: 'number', step: spec && spec.type === 'int' ? '1' : 'any', value: String(value) });
      if (spec && spec.min !== undefined) input.min = String(spec.min);
      if (spec && spec.max !== undefined) input.max = String(spec.max);
      read = () => (input.value === '' ? null : Number(input.value));
    } else if (value !== null && typeof value === 'object') {
      input = h('textarea', { rows: 3, class: 'mono', props: { value: JSON.stringify(value, null, 2) } });
      read = () => JSON.parse(input.value);
    } else {
      input = h('input', { value: value ?? '' });
      read = () => input.value;
    }
    input.name = path;
    input.id = `setting-${path.replace(/[^a-z0-9_-]/gi, '-')}`;
    const wrapper = field(label, input, hint);
    fields.set(path, { wrapper, read });
    return wrapper;
  }

  async function load() {
    try {
      const body = await get('/api/v1/settings');
      version = body.version ?? null;
      fields = new Map();
      const values = body.settings || {};
      const specs = body.fields || [];
      // In the order the appliance declares them; anything it does not describe comes last.
      const declared = specs.filter((spec) => spec.name in values).map((spec) => control(spec.name, values[spec.name], spec));
      const rest = Object.keys(values).filter((key) => !specs.some((spec) => spec.name === key));
      clear(form, [...declared, ...rest.map((key) => control(key, values[key]))]);
    } catch (err) {
      clear(form, h('p', { class: 'notice notice-error', text: errorText(err) }));
    }
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setNotice(status, 'ok', '');
    const settings = {};
    let bad = false;
    for (const [path, f] of fields) {
      f.wrapper.setError('');
      try {
        settings[path] = f.read();
      } catch (_) {
        f.wrapper.setError(t('admin.invalid_json'));
        bad = true;
      }
    }
    if (bad) return;
    save.disabled = true;
    try {
      const body = await put('/api/v1/settings', version === null ? settings : { ...settings, version });
      if (body && body.version !== undefined) version = body.version;
      const restart = (body && body.restart_required) || [];
      setNotice(status, 'ok', restart.length ? t('admin.settings_saved_restart', { names: restart.join(', ') }) : t('admin.settings_saved'));
    } catch (err) {
      if (err.fields) {
        for (const [path, why] of Object.entries(err.fields)) {
          const f = fields.get(path);
          if (f) f.wrapper.setError(why);
        }
        setNotice(status, 'error', t('admin.settings_invalid'));
      } else {
        setNotice(status, 'error', errorText(err));
      }
    } finally {
      save.disabled = false;
    }
  });
  form.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && event.target.tagName === 'INPUT') {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  save.addEventListener('click', (event) => {
    event.preventDefault();
    form.requestSubmit();
  });
  load();
}

// ---- image update ----
function updateTab(panel) {
  const input = h('input', { type: 'file', id: 'update-file', accept: '.sbimg,.img,.tar,.bundle,application/octet-stream' });
  const send = h('button', { type: 'submit', class: 'button primary', id: 'update-send', text: t('admin.update_upload') });
  const out = h('div', { id: 'update-result' });
  const form = h('form', { class: 'form-grid', id: 'update-form' }, field(t('admin.update_file'), input, t('admin.update_hint')),
    h('div', { class: 'form-actions' }, send));
  panel.append(h('section', { class: 'card' }, h('h2', { text: t('admin.tab.update') }), form, out));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const file = input.files[0];
    if (!file) return;
    send.disabled = true;
    clear(out, h('div', { class: 'progress' }, h('span', { class: 'spinner' }), t('admin.update_verifying', { name: file.name })));
    try {
      const response = await request('POST', '/api/v1/admin/update', { body: file });
      const result = await response.json();
      clear(out, h('p', { class: 'notice notice-ok', text: t('admin.update_ok') }), keyValues(Object.entries(result || {})));
    } catch (err) {
      clear(out, h('p', { class: 'notice notice-error', text: t('admin.update_rejected', { reason: errorText(err) }) }));
    } finally {
      send.disabled = false;
    }
  });
}
