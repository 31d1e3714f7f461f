// Strongbox web UI: the source viewer, a panel that shows a cited passage where it stands.
// PDFs: the page image rendered by the server with the cited boxes drawn over it, scaled from
// PDF points (origin top-left) to the image. Logs: the cited lines with the lines around them
// and the template they follow. Text: the paragraph with the quote marked.
import { get } from './api.js';
import { t } from './i18n.js';
import { h, clear, errorText, keyValues, formatTime } from './ui.js';

// Where `quote` stands in `passage`, matching any run of whitespace to any other (quotes have
// their whitespace collapsed while passages keep the source's line breaks).
export function findQuote(passage, quote) {
  const words = (quote || '').trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return null;
  const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
  const match = new RegExp(escaped.join('\\s+')).exec(passage);
  return match ? { start: match.index, end: match.index + match[0].length } : null;
}

function markedPassage(passage, quote) {
  const found = findQuote(passage, quote);
  if (!found) return [h('mark', { class: 'passage', text: passage })];
  return [passage.slice(0, found.start), h('mark', { class: 'passage', text: passage.slice(found.start, found.end) }),
    passage.slice(found.end)];
}

function kindOf(view) {
  if (view.kind) return view.kind;
  if (view.page_width > 0 && view.page_height > 0) return 'pdf';
  const p = view.provenance || {};
  return p.line_start > 0 && /\.log$/i.test(p.source_path || '') ? 'log' : 'text';
}

// The page image with one highlight per cited box on this page. Positions are percentages of the
// page size, so the highlights stay on their words whatever width the image is drawn at.
function pdfPage(view, citation, onReady) {
  const page = (view.provenance && view.provenance.page) || 0;
  const figure = h('figure', { class: 'page-figure', id: 'page-figure' });
  const image = h('img', {
    class: 'page-image', id: 'page-image', alt: t('viewer.page_image', { page }),
    src: `/api/v1/source/${encodeURIComponent(view.chunk_id)}/page.png?dpi=100`,
  });
  figure.append(image);
  // The citation's boxes are narrowed to the quoted sentence; the chunk's cover the whole passage.
  const cited = (citation.provenance && citation.provenance.boxes) || [];
  const boxes = (cited.length ? cited : view.boxes || []).filter((b) => !b.page || !page || b.page === page);
  for (const box of boxes) {
    const mark = h('div', { class: 'page-highlight', 'aria-hidden': 'true', data: box });
    mark.style.left = `${(100 * box.x0) / view.page_width}%`;
    mark.style.top = `${(100 * box.y0) / view.page_height}%`;
    mark.style.width = `${(100 * (box.x1 - box.x0)) / view.page_width}%`;
    mark.style.height = `${(100 * (box.y1 - box.y0)) / view.page_height}%`;
    figure.append(mark);
  }
  image.addEventListener('load', () => {
    figure.classList.add('loaded');
    onReady(figure.querySelector('.page-highlight') || figure);
  });
  image.addEventListener('error', () => {
    figure.replaceWith(h('p', { class: 'notice notice-warn', text: t('viewer.no_image') }));
  });
  return figure;
}

// The chunk's lines numbered from the file, between the lines of its neighbours; the lines the
// citation quotes (narrowed by the verifier) are marked, the rest of the chunk shaded lighter.
function logLines(view, citation) {
  const p = view.provenance || {};
  const c = citation.provenance || {};
  const citedFrom = c.line_start > 0 ? c.line_start : p.line_start;
  const citedTo = c.line_end > 0 ? c.line_end : p.line_end;
  const before = (view.before || []).join('\n');
  const after = (view.after || []).join('\n');
  const passage = view.passage || '';
  const rows = [];
  const add = (text, cls, first) => {
    if (!text) return;
    text.split('\n').forEach((line, i) => {
      const number = first > 0 ? first + i : 0;
      const cited = cls === 'passage' && (!number || !citedFrom || (number >= citedFrom && number <= citedTo));
      rows.push(h('div', { class: `log-line ${cited ? 'cited' : cls}` },
        h('span', { class: 'line-no', text: number ? String(number) : '' }), h('span', { class: 'line-text', text: line })));
    });
  };
  const beforeCount = before ? before.split('\n').length : 0;
  const passageCount = passage.split('\n').length;
  add(before, 'context', p.line_start > 0 ? p.line_start - beforeCount : 0);
  add(passage, 'passage', p.line_start || 0);
  add(after, 'context', p.line_start > 0 ? p.line_start + passageCount : 0);
  const block = h('div', { class: 'log-view', id: 'log-view' }, rows);
  const template = view.template || view.log_template;
  const parts = [block];
  if (template) parts.push(h('div', { class: 'log-template' }, h('h3', { text: t('viewer.template') }), h('code', { text: template })));
  return { parts, focus: block.querySelector('.cited') || block };
}

export function createViewer() {
  const title = h('h2', { id: 'viewer-title', text: t('viewer.passage') });
  const number = h('span', { id: 'viewer-number' });
  const close = h('button', { id: 'viewer-close', class: 'icon-button', type: 'button', 'aria-label': t('viewer.close'), text: '×' });
  const loading = h('div', { id: 'viewer-loading', class: 'progress', hidden: true },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }), t('viewer.loading'));
  const error = h('div', { id: 'viewer-error', class: 'notice notice-error', role: 'alert', hidden: true });
  const body = h('div', { id: 'viewer-body', class: 'viewer-body' });
  const meta = h('div', { id: 'viewer-meta', class: 'viewer-meta' });
  const panel = h('aside', { id: 'viewer', class: 'viewer', hidden: true, 'aria-labelledby': 'viewer-title' },
    h('header', { class: 'viewer-header' },
      h('div', {}, h('p', { class: 'eyebrow' }, t('viewer.source'), ' ', number), title), close),
    loading, error, body, meta);
  const backdrop = h('div', { class: 'viewer-backdrop', hidden: true });
  let ticket = 0;
  const listeners = [];

  function hide() {
    ticket += 1;
    panel.hidden = backdrop.hidden = true;
    document.body.classList.remove('viewer-open');
    for (const fn of listeners) fn();
  }
  close.addEventListener('click', hide);
  backdrop.addEventListener('click', hide);
  const onKey = (event) => { if (event.key === 'Escape' && !panel.hidden) hide(); };
  document.addEventListener('keydown', onKey);

  async function open(citation) {
    const mine = ++ticket;
    panel.hidden = backdrop.hidden = false;
    document.body.classList.add('viewer-open');
    number.textContent = citation.number ? `[${citation.number}]` : '';
    title.textContent = citation.location || t('viewer.passage');
    clear(body);
    clear(meta);
    error.hidden = true;
    loading.hidden = false;
    try {
      const view = await get(`/api/v1/source/${encodeURIComponent(citation.chunk_id)}`);
      if (mine !== ticket) return;
      show(view, citation);
    } catch (err) {
      if (mine !== ticket) return;
      error.textContent = errorText(err);
      error.hidden = false;
    } finally {
      if (mine === ticket) loading.hidden = true;
    }
  }

  function show(view, citation) {
    title.textContent = view.location || citation.location || t('viewer.passage');
    const kind = kindOf(view);
    panel.dataset.kind = kind;
    const reveal = (node) => node.scrollIntoView({ block: 'center' });
    if (kind === 'pdf') {
      body.append(pdfPage(view, citation, reveal));
      body.append(h('details', { class: 'page-text' }, h('summary', { text: t('viewer.page_text') }),
        h('div', { class: 'text-view' }, markedPassage(view.passage || '', citation.quote))));
    } else if (kind === 'log') {
      const { parts, focus } = logLines(view, citation);
      body.append(...parts);
      reveal(focus);
    } else {
      const text = h('div', { class: 'text-view' });
      for (const part of view.before || []) text.append(h('span', { class: 'context', text: `${part}\n\n` }));
      text.append(...markedPassage(view.passage || '', citation.quote));
      for (const part of view.after || []) text.append(h('span', { class: 'context', text: `\n\n${part}` }));
      body.append(text);
      reveal(text.querySelector('mark') || text);
    }
    const p = view.provenance || {};
    const lines = p.line_start > 0 ? (p.line_start === p.line_end ? p.line_start : `${p.line_start}–${p.line_end}`) : null;
    meta.append(keyValues([
      [t('viewer.file'), p.source_path],
      [t('viewer.page'), p.page > 0 ? p.page : null],
      [t('viewer.lines'), lines],
      ['SHA-256', p.source_sha256 ? `${p.source_sha256.slice(0, 16)}…` : null],
      [t('viewer.extractor'), p.extractor ? `${p.extractor} ${p.extractor_version || ''}`.trim() : null],
      [t('viewer.ocr'), p.ocr_confidence >= 0 ? `${Math.round(p.ocr_confidence)} %` : null],
      [t('viewer.ingested'), p.ingested_at ? formatTime(p.ingested_at) : null],
      [t('viewer.chunk'), view.chunk_id],
    ]));
  }

  return {
    elements: [backdrop, panel],
    open,
    close: hide,
    onClose: (fn) => listeners.push(fn),
    dispose: () => {
      document.removeEventListener('keydown', onKey);
      document.body.classList.remove('viewer-open');
    },
  };
}
