// Strongbox web UI: the Audit page (auditors and admins). Filters go to /api/v1/audit as query
// parameters; the same filters build the export links, so an export holds exactly what is listed.
import { get, withQuery } from './api.js';
import { t } from './i18n.js';
import { h, clear, errorText, formatTime, keyValues, emptyRow, field } from './ui.js';
import { createViewer } from './viewer.js';

const KINDS = ['', 'ask', 'login', 'login_failed', 'logout', 'upload', 'document_removed', 'user_change', 'settings_change', 'update'];

// datetime-local gives local wall time; the server filters on absolute instants.
function instant(value) {
  if (!value) return '';
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? '' : date.toISOString();
}

export function renderAudit(root, ctx) {
  const canOpenSources = ctx.user.role === 'admin';
  const viewer = createViewer();
  const inputs = {
    since: h('input', { id: 'audit-since', type: 'datetime-local' }),
    until: h('input', { id: 'audit-until', type: 'datetime-local' }),
    user: h('input', { id: 'audit-user', autocomplete: 'off' }),
    document: h('input', { id: 'audit-document', autocomplete: 'off' }),
    text: h('input', { id: 'audit-text', type: 'search', autocomplete: 'off' }),
    kind: h('select', { id: 'audit-kind' }, KINDS.map((k) => h('option', { value: k, text: k ? t(`audit.kind.${k}`, {}, k) : t('audit.any_kind') }))),
  };
  const search = h('button', { type: 'submit', class: 'button primary', id: 'audit-search', text: t('audit.search') });
  const reset = h('button', { type: 'reset', class: 'button ghost', text: t('audit.reset') });
  const form = h('form', { id: 'audit-filters', class: 'filters' },
    field(t('audit.since'), inputs.since), field(t('audit.until'), inputs.until), field(t('audit.user'), inputs.user),
    field(t('audit.document'), inputs.document), field(t('audit.text'), inputs.text), field(t('audit.kind'), inputs.kind),
    h('div', { class: 'filter-actions' }, search, reset));
  const exports = ['bundle', 'jsonl', 'csv'].map((format) => h('a', {
    class: 'button ghost small', id: `export-${format}`, download: '', text: t(`audit.export_${format}`),
  }));
  const error = h('div', { class: 'notice notice-error', role: 'alert', hidden: true });
  const tbody = h('tbody', { id: 'audit-records' });
  const detail = h('section', { id: 'audit-record', class: 'card record', hidden: true });

  root.append(
    h('div', { class: 'page-head' }, h('h1', { text: t('nav.audit') }),
      h('div', { class: 'export-links' }, h('span', { class: 'muted', text: t('audit.export') }), exports)),
    h('section', { class: 'card' }, form),
    error,
    h('div', { class: 'audit-layout' },
      h('section', { class: 'card' }, h('div', { class: 'table-wrap' }, h('table', { class: 'table table-click' },
        h('thead', {}, h('tr', {}, ['audit.id', 'audit.at', 'audit.kind', 'audit.actor', 'audit.summary']
          .map((key) => h('th', { scope: 'col', text: t(key) })))), tbody))),
      detail),
    ...viewer.elements);

  function filters() {
    return {
      since: instant(inputs.since.value), until: instant(inputs.until.value), user: inputs.user.value.trim(),
      document: inputs.document.value.trim(), text: inputs.text.value.trim(), kind: inputs.kind.value,
    };
  }

  function updateExports() {
    const f = filters();
    for (const link of exports) {
      const format = link.id.replace('export-', '');
      link.href = withQuery('/api/v1/audit/export', { format, ...f });
    }
  }

  async function load() {
    error.hidden = true;
    updateExports();
    try {
      const body = await get(withQuery('/api/v1/audit', { ...filters(), limit: 200 }));
      const records = body.records || [];
      clear(tbody);
      if (!records.length) tbody.append(emptyRow(5, t('audit.none')));
      for (const r of records) {
        const row = h('tr', { tabindex: 0, data: { id: r.id }, class: 'record-row' },
          h('td', { text: `#${r.id}` }), h('td', { text: formatTime(r.at) }),
          h('td', {}, h('span', { class: `kind-pill kind-${r.kind}`, text: t(`audit.kind.${r.kind}`, {}, r.kind) })),
          h('td', { text: r.actor || '' }), h('td', { class: 'summary', text: r.summary || '' }));
        row.addEventListener('click', () => openRecord(r.id, row));
        row.addEventListener('keydown', (event) => { if (event.key === 'Enter') openRecord(r.id, row); });
        tbody.append(row);
      }
    } catch (err) {
      error.textContent = errorText(err);
      error.hidden = false;
    }
  }

  async function openRecord(id, row) {
    for (const node of tbody.querySelectorAll('tr.active')) node.classList.remove('active');
    if (row) row.classList.add('active');
    detail.hidden = false;
    clear(detail, h('p', { class: 'muted', text: t('common.loading') }));
    try {
      const { record } = await get(`/api/v1/audit/${encodeURIComponent(id)}`);
      showRecord(record);
    } catch (err) {
      clear(detail, h('p', { class: 'notice notice-error', text: errorText(err) }));
    }
  }

  function showRecord(record) {
    // The audited event itself: "record" in the appliance's answer, "body" in older ones.
    const raw = record.record ?? record.body ?? {};
    const body = typeof raw === 'string' ? safeParse(raw) : raw;
    const answer = body.answer && typeof body.answer === 'object' ? body.answer : body;
    const close = h('button', { type: 'button', class: 'icon-button', 'aria-label': t('viewer.close'), text: '×' });
    close.addEventListener('click', () => { detail.hidden = true; });
    const parts = [h('header', { class: 'record-head' },
      h('h2', { text: `${t(`audit.kind.${record.kind}`, {}, record.kind)} #${record.id}` }), close),
    keyValues([[t('audit.at'), formatTime(record.at)], [t('audit.actor'), record.actor], [t('audit.summary'), record.summary],
      [t('audit.hash'), record.hash], [t('audit.prev_hash'), record.prev_hash]])];
    const question = answer.question || body.question;
    if (question) parts.push(h('h3', { text: t('audit.question') }), h('p', { class: 'record-question', text: question }));
    const text = typeof answer.answer === 'string' ? answer.answer : '';
    if (answer.refused) parts.push(h('p', { class: 'notice notice-refusal', text: answer.refusal_reason || t('ask.refused') }));
    else if (text) parts.push(h('h3', { text: t('audit.answer') }), h('p', { class: 'record-answer', text }));
    const cited = answer.citations || body.citations || [];
    if (cited.length) {
      parts.push(h('h3', { text: t('ask.sources') }), h('ol', { class: 'sources', id: 'record-citations' }, cited.map((c) => {
        const item = h('li', { class: 'source' }, h('span', { class: 'cite', text: `[${c.number}]` }),
          h('div', { class: 'location', text: c.location || '' }), h('blockquote', { text: c.quote || '' }));
        if (canOpenSources && c.chunk_id) {
          item.classList.add('clickable');
          item.addEventListener('click', () => viewer.open(c));
        }
        return item;
      })));
    }
    parts.push(h('details', { class: 'raw' }, h('summary', { text: t('audit.raw') }),
      h('pre', { text: JSON.stringify(record, null, 2) })));
    clear(detail, parts);
    detail.scrollIntoView({ block: 'nearest' });
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    load();
  });
  form.addEventListener('reset', () => setTimeout(load, 0));
  form.addEventListener('input', updateExports);
  load();
  return () => viewer.dispose();
}

function safeParse(text) {
  try {
    return JSON.parse(text);
  } catch (_) {
    return {};
  }
}
