// Strongbox web UI. Plain DOM code, no framework and no inline handlers (the CSP forbids inline
// script). Text from answers and documents is only ever set through textContent, never as HTML.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);

  const el = {
    status: $('status'), statusText: $('status-text'),
    form: $('ask-form'), question: $('question'), button: $('ask-button'),
    progress: $('progress'), progressText: $('progress-text'), error: $('error'), empty: $('empty'),
    result: $('result'), resultQuestion: $('result-question'),
    refusal: $('refusal'), refusalReason: $('refusal-reason'),
    answer: $('answer'), answerMeta: $('answer-meta'), sourcesSection: $('sources-section'), sources: $('sources'),
    layout: $('layout'), viewer: $('viewer'), viewerNumber: $('viewer-number'), viewerTitle: $('viewer-title'),
    viewerClose: $('viewer-close'), viewerLoading: $('viewer-loading'), viewerError: $('viewer-error'),
    viewerBody: $('viewer-body'), viewerMeta: $('viewer-meta'),
  };

  const STAGES = {
    started: 'Searching the documents…',
    retrieving: 'Searching the documents…',
    generating: 'Writing the answer…',
  };

  let citations = new Map();  // number -> citation of the answer on screen
  let sourceRequest = 0;      // ignore source responses that arrive after a newer click

  function make(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  async function errorMessage(response) {
    try {
      const body = await response.json();
      if (body && body.error && body.error.message) {
        const retry = response.headers.get('Retry-After');
        return body.error.message + (retry ? ` (try again in ${retry} s)` : '');
      }
    } catch (_) { /* not JSON: fall through */ }
    return `The server answered ${response.status} ${response.statusText}`;
  }

  // ---- status ----
  async function refreshStatus() {
    try {
      const response = await fetch('/healthz', { cache: 'no-store' });
      const health = await response.json();
      const parts = [];
      if (typeof health.documents === 'number') parts.push(`${health.documents} documents`);
      if (typeof health.chunks === 'number') parts.push(`${health.chunks} passages`);
      el.statusText.textContent = parts.length ? `Online · ${parts.join(' · ')}` : 'Online';
      el.status.className = response.ok && health.status !== 'down' ? 'status ok' : 'status down';
    } catch (_) {
      el.statusText.textContent = 'Offline';
      el.status.className = 'status down';
    }
  }

  // ---- asking ----
  function setBusy(busy, text) {
    el.button.disabled = busy;
    el.progress.hidden = !busy;
    if (text) el.progressText.textContent = text;
  }

  function showError(message) {
    el.error.textContent = message;
    el.error.hidden = false;
  }

  function resetResult(question) {
    el.error.hidden = true;
    el.empty.hidden = true;
    el.result.hidden = false;
    el.resultQuestion.textContent = question;
    el.refusal.hidden = true;
    el.answer.replaceChildren();
    el.answerMeta.textContent = '';
    el.sources.replaceChildren();
    el.sourcesSection.hidden = true;
    citations = new Map();
    closeViewer();
  }

  // Server-sent events over a POST body: split the stream on blank lines, one event per block.
  async function readEvents(response, onEvent) {
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        let name = 'message';
        const data = [];
        for (const line of block.split('\n')) {
          if (line.startsWith('event:')) name = line.slice(6).trim();
          else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
        }
        if (data.length) onEvent(name, JSON.parse(data.join('\n')));
      }
    }
  }

  async function ask(question) {
    resetResult(question);
    setBusy(true, STAGES.started);
    let streamed = null;
    let finished = false;
    try {
      const response = await fetch('/api/v1/ask/stream', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', 'Accept': 'text/event-stream' },
        body: JSON.stringify({ question, top_k: 5 }),
      });
      if (!response.ok) {
        showError(await errorMessage(response));
        el.result.hidden = true;
        return;
      }
      await readEvents(response, (name, data) => {
        if (name === 'stage') {
          setBusy(true, STAGES[data.stage] || `${data.stage}…`);
        } else if (name === 'text') {
          if (!streamed) {
            streamed = make('p', 'streaming');
            el.answer.replaceChildren(streamed);
          }
          streamed.textContent += data.text;
        } else if (name === 'answer') {
          finished = true;
          renderAnswer(data);
        } else if (name === 'error') {
          finished = true;
          showError(data.error ? data.error.message : 'The answer could not be completed.');
        }
      });
      if (!finished) showError('The connection closed before the answer was complete.');
    } catch (err) {
      showError(`Could not reach Strongbox: ${err.message}`);
    } finally {
      setBusy(false);
    }
  }

  function renderAnswer(answer) {
    el.answer.replaceChildren();
    if (answer.refused) {
      el.refusal.hidden = false;
      el.refusalReason.textContent = answer.refusal_reason || answer.answer ||
        'The indexed documents do not contain evidence for an answer.';
      el.answerMeta.textContent = metaLine(answer);
      return;
    }
    for (const c of answer.citations || []) citations.set(c.number, c);
    const paragraph = make('p');
    (answer.sentences || []).forEach((sentence, i) => {
      if (i > 0) paragraph.append(' ');
      const span = make('span', `sentence ${sentence.support || 'supported'}`, sentence.text);
      if (sentence.support === 'partial') span.title = 'Only partly supported by the cited passages';
      if (sentence.support === 'unsupported') span.title = 'Not supported by the cited passages';
      paragraph.append(span);
      for (const n of sentence.citations || []) paragraph.append(citeButton(n));
    });
    el.answer.append(paragraph);
    el.answerMeta.textContent = metaLine(answer);
    renderSources(answer.citations || []);
  }

  function metaLine(answer) {
    const parts = [];
    if (answer.answerer) parts.push(`Answered by ${answer.answerer}`);
    if (typeof answer.latency_ms === 'number') {
      parts.push(answer.latency_ms < 1 ? 'under 1 ms' : `${Math.round(answer.latency_ms)} ms`);
    }
    if (answer.audit_id) parts.push(`audit record #${answer.audit_id}`);
    return parts.join(' · ');
  }

  function citeButton(number) {
    const button = make('button', 'cite', `[${number}]`);
    button.type = 'button';
    button.dataset.number = String(number);
    button.setAttribute('aria-label', `Show source ${number}`);
    return button;
  }

  function renderSources(list) {
    el.sources.replaceChildren();
    for (const c of list) {
      const item = make('li', 'source');
      item.id = `source-${c.number}`;
      item.dataset.number = String(c.number);
      item.append(citeButton(c.number), make('div', 'location', c.location || 'source'),
        make('blockquote', '', c.quote));
      el.sources.append(item);
    }
    el.sourcesSection.hidden = list.length === 0;
  }

  // ---- source viewer ----
  function markActive(number) {
    for (const node of document.querySelectorAll('.cite.active, .source.active')) node.classList.remove('active');
    for (const node of document.querySelectorAll(`[data-number="${number}"]`)) node.classList.add('active');
  }

  function closeViewer() {
    el.viewer.hidden = true;
    el.layout.classList.remove('with-viewer');
    for (const node of document.querySelectorAll('.cite.active, .source.active')) node.classList.remove('active');
  }

  function addMeta(term, value) {
    if (value === undefined || value === null || value === '' || value === -1) return;
    el.viewerMeta.append(make('dt', '', term), make('dd', '', String(value)));
  }

  async function openSource(number) {
    const citation = citations.get(number);
    if (!citation) return;
    markActive(number);
    const ticket = ++sourceRequest;
    el.layout.classList.add('with-viewer');
    el.viewer.hidden = false;
    el.viewerNumber.textContent = `[${number}]`;
    el.viewerTitle.textContent = citation.location || 'Passage';
    el.viewerBody.replaceChildren();
    el.viewerMeta.replaceChildren();
    el.viewerError.hidden = true;
    el.viewerLoading.hidden = false;
    try {
      const response = await fetch(`/api/v1/source/${encodeURIComponent(citation.chunk_id)}`);
      if (ticket !== sourceRequest) return;
      if (!response.ok) {
        el.viewerError.textContent = await errorMessage(response);
        el.viewerError.hidden = false;
        return;
      }
      renderSource(await response.json(), citation);
    } catch (err) {
      if (ticket !== sourceRequest) return;
      el.viewerError.textContent = `Could not load the source: ${err.message}`;
      el.viewerError.hidden = false;
    } finally {
      if (ticket === sourceRequest) el.viewerLoading.hidden = true;
    }
  }

  // Where `quote` stands in `passage`, matching any run of whitespace to any other.
  function findQuote(passage, quote) {
    const words = (quote || '').trim().split(/\s+/).filter(Boolean);
    if (words.length === 0) return null;
    const escaped = words.map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    const match = new RegExp(escaped.join('\\s+')).exec(passage);
    return match ? { start: match.index, end: match.index + match[0].length } : null;
  }

  function renderSource(view, citation) {
    el.viewerTitle.textContent = view.location || citation.location || 'Passage';
    const body = el.viewerBody;
    for (const text of view.before || []) body.append(make('span', 'context', `${text}\n\n`));
    const passage = view.passage || '';
    // Highlight the quote inside the passage when it is there; otherwise the whole passage.
    // Quotes have their whitespace collapsed while passages keep the source's line breaks.
    const found = findQuote(passage, citation.quote);
    let mark;
    if (found) {
      mark = make('mark', 'passage', passage.slice(found.start, found.end));
      body.append(passage.slice(0, found.start), mark, passage.slice(found.end));
    } else {
      mark = make('mark', 'passage', passage);
      body.append(mark);
    }
    for (const text of view.after || []) body.append(make('span', 'context', `\n\n${text}`));

    const p = view.provenance || {};
    addMeta('File', p.source_path);
    addMeta('Page', p.page > 0 ? p.page : null);
    if (p.line_start > 0) {
      addMeta('Lines', p.line_start === p.line_end ? p.line_start : `${p.line_start}–${p.line_end}`);
    }
    addMeta('SHA-256', p.source_sha256 ? `${p.source_sha256.slice(0, 16)}…` : null);
    addMeta('Extractor', p.extractor ? `${p.extractor} ${p.extractor_version || ''}`.trim() : null);
    addMeta('OCR confidence', p.ocr_confidence >= 0 ? `${Math.round(p.ocr_confidence)} %` : null);
    addMeta('Ingested', p.ingested_at);
    addMeta('Chunk', view.chunk_id);
    mark.scrollIntoView({ block: 'center' });
  }

  // ---- wiring ----
  el.form.addEventListener('submit', (event) => {
    event.preventDefault();
    const question = el.question.value.trim();
    if (question && !el.button.disabled) ask(question);
  });
  el.question.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      el.form.requestSubmit();
    }
  });
  // One listener for every citation marker and source row, including ones rendered later.
  document.addEventListener('click', (event) => {
    const target = event.target.closest('.cite, .source');
    if (target && target.dataset.number) openSource(Number(target.dataset.number));
  });
  el.viewerClose.addEventListener('click', closeViewer);
  document.addEventListener('keydown', (event) => {
    if (event.key === 'Escape' && !el.viewer.hidden) closeViewer();
  });

  refreshStatus();
  setInterval(refreshStatus, 30000);
  el.question.focus();
})();
