// Strongbox web UI: the Documents page. Files dropped or picked are sent one request each (raw
// bytes) to the chosen collection; each upload's ingest job is polled until it settles, showing
// pages done per file, errors with their reason, and the document list refreshes when one lands.
import { get, del, request, withQuery } from './api.js';
import { t } from './i18n.js';
import { h, append, clear, errorText, formatTime, confirmButton, toast, emptyRow } from './ui.js';

const POLL_MS = 400;
const PARALLEL_UPLOADS = 2;
const SETTLED = new Set(['done', 'failed']);

export function renderDocuments(root, ctx) {
  const isAdmin = ctx.user.role === 'admin';
  let collections = [];
  let stopped = false;
  const timers = new Set();
  const queue = [];
  let running = 0;

  const select = h('select', { id: 'doc-collection', 'aria-label': t('docs.collection') });
  const counts = h('span', { id: 'doc-count', class: 'muted' });
  const fileInput = h('input', { id: 'file-input', type: 'file', multiple: true, class: 'visually-hidden' });
  const pick = h('label', { for: 'file-input', class: 'button primary', text: t('docs.choose_files') });
  const dropzone = h('div', { id: 'dropzone', class: 'dropzone', tabindex: 0 },
    h('p', { class: 'dropzone-title', text: t('docs.drop_here') }), h('p', { class: 'muted', text: t('docs.drop_hint') }),
    pick, fileInput);
  const readOnly = h('p', { id: 'read-only', class: 'notice notice-info', hidden: true, text: t('docs.read_only') });
  const uploads = h('ul', { id: 'uploads', class: 'uploads' });
  const uploadsCard = h('section', { class: 'card', id: 'uploads-card', hidden: true },
    h('h2', { text: t('docs.uploads') }), uploads);
  const listError = h('div', { class: 'notice notice-error', role: 'alert', hidden: true });
  const tbody = h('tbody', { id: 'documents' });
  const table = h('table', { class: 'table', id: 'documents-table' },
    h('thead', {}, h('tr', {}, ['docs.name', 'docs.version', 'docs.pages', 'docs.chunks', 'docs.ingested', 'docs.actions']
      .map((key) => h('th', { scope: 'col', text: t(key) })))), tbody);
  const quarantineBody = h('tbody', { id: 'quarantine' });
  const quarantine = isAdmin ? h('section', { class: 'card' }, h('h2', { text: t('docs.quarantine') }),
    h('p', { class: 'muted', text: t('docs.quarantine_intro') }),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, ['docs.name', 'docs.collection', 'docs.reason', 'docs.when']
        .map((key) => h('th', { scope: 'col', text: t(key) })))), quarantineBody))) : null;

  append(root,
    h('div', { class: 'page-head' }, h('h1', { text: t('nav.documents') }),
      h('div', { class: 'inline-field' }, h('label', { for: 'doc-collection', text: t('docs.collection') }), select, counts)),
    h('section', { class: 'card' }, dropzone, readOnly),
    uploadsCard,
    h('section', { class: 'card' }, h('h2', { text: t('docs.in_collection') }), listError,
      h('div', { class: 'table-wrap' }, table)),
    quarantine);

  const current = () => collections.find((c) => c.name === select.value);
  const writable = () => { const c = current(); return !!c && (c.access === 'write' || c.access === 'admin' || isAdmin); };

  function refreshUploadArea() {
    dropzone.hidden = !writable();
    readOnly.hidden = writable() || !current();
    const c = current();
    counts.textContent = c && typeof c.documents === 'number' ? t('docs.count', { n: c.documents }) : '';
  }

  async function loadCollections() {
    const body = await get('/api/v1/collections');
    collections = body.collections || [];
    const keep = select.value;
    clear(select, collections.map((c) => h('option', { value: c.name, text: c.name })));
    if (!collections.length) select.append(h('option', { value: '', text: t('docs.no_collections') }));
    const canWrite = (c) => c.access === 'write' || c.access === 'admin';
    const preferred = collections.find((c) => c.name === keep) || collections.find((c) => canWrite(c) && c.documents > 0)
      || collections.find(canWrite) || collections[0];
    if (preferred) select.value = preferred.name;
    refreshUploadArea();
  }

  async function loadDocuments() {
    listError.hidden = true;
    if (!select.value) {
      clear(tbody, emptyRow(6, t('docs.no_collections')));
      return;
    }
    try {
      const body = await get(withQuery('/api/v1/documents', { collection: select.value }));
      const docs = (body.documents || []).filter((d) => d.status !== 'removed');
      clear(tbody);
      if (!docs.length) tbody.append(emptyRow(6, t('docs.none')));
      for (const doc of docs) tbody.append(...documentRows(doc));
    } catch (err) {
      listError.textContent = errorText(err);
      listError.hidden = false;
    }
  }

  function documentRows(doc) {
    const versionsRow = h('tr', { class: 'versions-row', hidden: true }, h('td', { colspan: 6 }));
    const showVersions = h('button', { type: 'button', class: 'button ghost small', text: t('docs.versions') });
    showVersions.addEventListener('click', async () => {
      if (!versionsRow.hidden) {
        versionsRow.hidden = true;
        return;
      }
      const cell = versionsRow.firstChild;
      clear(cell, h('span', { class: 'muted', text: t('common.loading') }));
      versionsRow.hidden = false;
      try {
        const body = await get(`/api/v1/documents/${encodeURIComponent(doc.id)}/versions`);
        clear(cell, h('ol', { class: 'versions' }, (body.versions || []).map((v) => h('li', {},
          h('strong', { text: t('docs.version_n', { n: v.version }) }), ' ',
          h('span', { class: 'muted', text: `${formatTime(v.ingested_at)} · ${(v.sha256 || '').slice(0, 12)} · ` }),
          h('span', { class: `status-pill ${v.status}`, text: t(`docs.status.${v.status}`, {}, v.status) })))));
      } catch (err) {
        clear(cell, h('span', { class: 'field-error', text: errorText(err) }));
      }
    });
    const actions = [showVersions];
    if (writable()) {
      actions.push(confirmButton(t('docs.delete'), t('docs.delete_confirm'), async () => {
        try {
          await del(`/api/v1/documents/${encodeURIComponent(doc.id)}`);
          toast(t('docs.deleted', { name: doc.name }));
          await refreshAll();
        } catch (err) {
          toast(errorText(err), 'error');
        }
      }));
    }
    const warnings = doc.warnings || [];
    return [h('tr', { data: { id: doc.id } },
      h('td', { class: 'doc-name' }, h('span', { text: doc.name || doc.path }),
        warnings.length ? h('ul', { class: 'warnings' }, warnings.map((w) => h('li', { text: typeof w === 'string' ? w : JSON.stringify(w) }))) : null),
      h('td', { text: doc.version ?? '' }), h('td', { text: doc.pages ?? '' }), h('td', { text: doc.chunks ?? '' }),
      h('td', { text: formatTime(doc.ingested_at) }), h('td', { class: 'actions' }, actions)), versionsRow];
  }

  async function loadQuarantine() {
    if (!quarantine) return;
    try {
      const body = await get('/api/v1/quarantine');
      const files = body.files || [];
      clear(quarantineBody);
      if (!files.length) quarantineBody.append(emptyRow(4, t('docs.quarantine_empty')));
      for (const f of files) {
        quarantineBody.append(h('tr', {}, h('td', { text: f.name }), h('td', { text: f.collection || '' }),
          h('td', { class: 'reason', text: f.reason }), h('td', { text: formatTime(f.at) })));
      }
    } catch (err) {
      clear(quarantineBody, emptyRow(4, errorText(err)));
    }
  }

  async function refreshAll() {
    await loadCollections();
    await loadDocuments();
    loadQuarantine();
    window.dispatchEvent(new Event('strongbox:documents-changed'));
  }

  // ---- uploads ----
  function fileState(state) { return t(`docs.file_state.${state}`, {}, state); }

  function addUpload(file) {
    const bar = h('progress', { max: 1, value: 0, 'aria-label': file.name });
    const state = h('span', { class: 'upload-state', text: fileState('waiting') });
    const detail = h('span', { class: 'upload-detail muted' });
    const error = h('p', { class: 'upload-error', hidden: true });
    const item = h('li', { class: 'upload', data: { state: 'waiting', name: file.name } },
      h('div', { class: 'upload-head' }, h('span', { class: 'upload-name', text: file.name }), state), bar, detail, error);
    uploads.prepend(item);
    uploadsCard.hidden = false;
    const set = (name, text) => {
      item.dataset.state = name;
      state.textContent = fileState(name);
      if (text !== undefined) detail.textContent = text;
    };
    const fail = (message) => {
      set('failed');
      error.textContent = message;
      error.hidden = false;
      bar.value = bar.max;
    };
    queue.push({ file, collection: select.value, bar, set, fail });
    pump();
  }

  function pump() {
    while (running < PARALLEL_UPLOADS && queue.length && !stopped) {
      running += 1;
      upload(queue.shift()).finally(() => {
        running -= 1;
        pump();
      });
    }
  }

  async function upload(job) {
    job.set('uploading', t('docs.sending'));
    let jobId;
    try {
      const response = await request('POST', withQuery('/api/v1/documents', { collection: job.collection, name: job.file.name }),
        { body: job.file });
      jobId = (await response.json()).job_id;
    } catch (err) {
      job.fail(errorText(err));
      return;
    }
    job.set('queued', '');
    await new Promise((resolve) => {
      const poll = async () => {
        if (stopped) return resolve();
        let body;
        try {
          body = await get(`/api/v1/jobs/${encodeURIComponent(jobId)}`);
        } catch (err) {
          job.fail(errorText(err));
          return resolve();
        }
        const file = (body.files || [])[0] || {};
        const total = file.pages_total || 0;
        if (total > 0) {
          job.bar.max = total;
          job.bar.value = file.pages_done || 0;
        }
        const pages = total > 0 ? t('docs.pages_progress', { done: file.pages_done || 0, total }) : '';
        if (file.state === 'failed' || (body.state === 'failed' && file.state !== 'added')) {
          job.fail(file.error || t('docs.failed_unknown'));
          refreshAll();
          return resolve();
        }
        if (SETTLED.has(body.state)) {
          job.bar.max = 1;
          job.bar.value = 1;
          job.set(file.state || 'added', pages);
          refreshAll();
          return resolve();
        }
        job.set(file.state || body.state, pages);
        const timer = setTimeout(() => {
          timers.delete(timer);
          poll();
        }, POLL_MS);
        timers.add(timer);
      };
      poll();
    });
  }

  function takeFiles(list) {
    if (!writable()) return;
    for (const file of list) addUpload(file);
  }

  fileInput.addEventListener('change', () => {
    takeFiles([...fileInput.files]);
    fileInput.value = '';
  });
  dropzone.addEventListener('dragover', (event) => {
    event.preventDefault();
    dropzone.classList.add('dragging');
  });
  dropzone.addEventListener('dragleave', () => dropzone.classList.remove('dragging'));
  dropzone.addEventListener('drop', (event) => {
    event.preventDefault();
    dropzone.classList.remove('dragging');
    takeFiles([...event.dataTransfer.files]);
  });
  dropzone.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      fileInput.click();
    }
  });
  select.addEventListener('change', () => {
    refreshUploadArea();
    loadDocuments();
  });

  (async () => {
    try {
      await loadCollections();
    } catch (err) {
      listError.textContent = errorText(err);
      listError.hidden = false;
      return;
    }
    loadDocuments();
    loadQuarantine();
  })();

  return () => {
    stopped = true;
    for (const timer of timers) clearTimeout(timer);
  };
}
