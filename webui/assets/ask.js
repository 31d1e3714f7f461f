// Strongbox web UI: the Ask page. A question goes to /api/v1/ask/stream; the preview text streams
// in, then the final answer replaces it with one span per sentence marked by how well the cited
// passages support it, and numbered citations that open the source viewer.
import { get, request, readEvents } from './api.js';
import { t } from './i18n.js';
import { h, clear, errorText, formatTime } from './ui.js';
import { createViewer } from './viewer.js';

const ALL = '';

export function renderAsk(root) {
  const viewer = createViewer();
  let citations = new Map();
  let controller = null;

  const collection = h('select', { id: 'collection', class: 'collection-select', 'aria-label': t('ask.collection') },
    h('option', { value: ALL, text: t('ask.all_collections') }));
  const question = h('textarea', {
    id: 'question', name: 'question', rows: 2, maxlength: 4000, required: true, placeholder: t('ask.placeholder'),
    'aria-label': t('ask.question'),
  });
  const button = h('button', { id: 'ask-button', type: 'submit', class: 'button primary', text: t('ask.submit') });
  const form = h('form', { id: 'ask-form', class: 'ask-form', autocomplete: 'off' }, question, button);
  const progressText = h('span', { id: 'progress-text' });
  const progress = h('div', { id: 'progress', class: 'progress', hidden: true },
    h('span', { class: 'spinner', 'aria-hidden': 'true' }), progressText);
  const error = h('div', { id: 'error', class: 'notice notice-error', role: 'alert', hidden: true });

  const resultQuestion = h('p', { id: 'result-question', class: 'result-question' });
  const refusalReason = h('p', { id: 'refusal-reason' });
  const refusal = h('div', { id: 'refusal', class: 'notice notice-refusal', hidden: true },
    h('h2', { text: t('ask.refused') }), refusalReason);
  const answer = h('article', { id: 'answer', class: 'answer', 'aria-live': 'polite' });
  const legend = h('p', { id: 'support-legend', class: 'support-legend', hidden: true },
    h('span', { class: 'mark-supported', text: t('ask.support.supported') }),
    h('span', { class: 'mark-partial', text: t('ask.support.partial') }),
    h('span', { class: 'mark-unsupported', text: t('ask.support.unsupported') }));
  const answerMeta = h('p', { id: 'answer-meta', class: 'answer-meta' });
  const sources = h('ol', { id: 'sources', class: 'sources' });
  const sourcesSection = h('section', { id: 'sources-section', class: 'sources-section', hidden: true },
    h('h2', { text: t('ask.sources') }), sources);
  const result = h('section', { id: 'result', class: 'result card', hidden: true },
    resultQuestion, refusal, answer, legend, answerMeta, sourcesSection);
  const empty = h('section', { id: 'empty', class: 'empty card' },
    h('h2', { text: t('ask.empty_title') }), h('p', { text: t('ask.empty_text') }));

  const history = h('ul', { id: 'history', class: 'history-list' });
  const historyPanel = h('aside', { class: 'history card', 'aria-labelledby': 'history-title' },
    h('h2', { id: 'history-title', text: t('ask.recent') }), history);

  root.append(h('div', { class: 'ask-layout' },
    h('section', { class: 'workspace', 'aria-label': t('nav.ask') },
      h('div', { class: 'ask-toolbar' }, h('label', { for: 'collection', text: t('ask.collection') }), collection),
      form, h('p', { class: 'hint', text: t('ask.hint') }), progress, error, result, empty),
    historyPanel), ...viewer.elements);

  function clearActive() {
    for (const node of root.querySelectorAll('.cite.active, .source.active')) node.classList.remove('active');
  }
  viewer.onClose(clearActive);

  function setBusy(busy, text) {
    button.disabled = busy;
    progress.hidden = !busy;
    if (text) progressText.textContent = text;
  }

  function showError(message) {
    error.textContent = message;
    error.hidden = false;
  }

  function citeButton(number) {
    return h('button', {
      type: 'button', class: 'cite', data: { number }, text: `[${number}]`, 'aria-label': t('ask.show_source', { n: number }),
    });
  }

  function metaLine(a) {
    const parts = [];
    if (a.answerer) parts.push(t('ask.answered_by', { answerer: a.answerer }));
    // A quote is supported by construction; what informs is how likely it answers the question.
    if (a.confidence) parts.push(t('ask.quoted_confidence', { confidence: t(`ask.confidence.${a.confidence}`) }));
    if (typeof a.latency_ms === 'number') parts.push(a.latency_ms < 1 ? t('ask.under_ms') : `${Math.round(a.latency_ms)} ms`);
    if (a.audit_id) parts.push(t('ask.audit_record', { id: a.audit_id }));
    return parts.join(' · ');
  }

  function renderAnswer(a) {
    clear(answer);
    citations = new Map();
    if (a.refused) {
      refusal.hidden = false;
      refusalReason.textContent = a.refusal_reason || a.answer || t('ask.refused_default');
      answerMeta.textContent = metaLine(a);
      return;
    }
    for (const c of a.citations || []) citations.set(c.number, c);
    const paragraph = h('p');
    const quoted = Boolean(a.confidence);
    (a.sentences || []).forEach((sentence, i) => {
      const support = sentence.support || 'supported';
      if (i > 0) paragraph.append(' ');
      paragraph.append(h('span', {
        class: `sentence ${quoted ? 'quoted' : support}`, text: sentence.text, data: { support },
        title: quoted ? t('ask.quoted') : t(`ask.support.${support}`),
      }));
      if (support !== 'supported') paragraph.append(h('span', { class: `support-mark ${support}`, 'aria-hidden': 'true' }));
      for (const n of sentence.citations || []) paragraph.append(citeButton(n));
    });
    answer.append(paragraph);
    legend.hidden = quoted || !(a.sentences || []).length;
    answerMeta.textContent = metaLine(a);
    clear(sources);
    for (const c of a.citations || []) {
      sources.append(h('li', { class: 'source', id: `source-${c.number}`, data: { number: c.number } },
        citeButton(c.number), h('div', { class: 'location', text: c.location || t('viewer.passage') }),
        h('blockquote', { text: c.quote || '' })));
    }
    sourcesSection.hidden = !(a.citations || []).length;
  }

  async function ask(text) {
    if (controller) controller.abort();
    controller = new AbortController();
    error.hidden = true;
    empty.hidden = true;
    result.hidden = false;
    resultQuestion.textContent = text;
    refusal.hidden = true;
    legend.hidden = true;
    clear(answer);
    answerMeta.textContent = '';
    sourcesSection.hidden = true;
    viewer.close();
    setBusy(true, t('ask.stage.retrieving'));
    let streamed = null;
    let finished = false;
    const body = { question: text, top_k: 5 };
    if (collection.value !== ALL) body.collections = [collection.value];
    try {
      const response = await request('POST', '/api/v1/ask/stream', { json: body, accept: 'text/event-stream', signal: controller.signal });
      await readEvents(response, (name, data) => {
        if (name === 'stage') {
          setBusy(true, t(`ask.stage.${data.stage}`, {}, t('ask.stage.working')));
        } else if (name === 'text') {
          if (!streamed) {
            streamed = h('p', { class: 'streaming', id: 'streaming' });
            answer.replaceChildren(streamed);
          }
          streamed.textContent += data.text;
        } else if (name === 'answer') {
          finished = true;
          renderAnswer(data);
        } else if (name === 'error') {
          finished = true;
          showError(data.error ? errorText(data.error) : t('ask.incomplete'));
        }
      });
      if (!finished) showError(t('ask.incomplete'));
      loadHistory();
    } catch (err) {
      if (err.name === 'AbortError') return;
      result.hidden = !finished;
      showError(errorText(err));
    } finally {
      setBusy(false);
    }
  }

  async function loadCollections() {
    try {
      const body = await get('/api/v1/collections');
      for (const c of body.collections || []) collection.append(h('option', { value: c.name, text: c.name }));
    } catch (_) { /* asking across every readable collection still works */ }
  }

  async function loadHistory() {
    try {
      const body = await get('/api/v1/history');
      const items = body.questions || [];
      clear(history);
      if (!items.length) history.append(h('li', { class: 'muted', text: t('ask.no_history') }));
      for (const item of items) {
        const again = h('button', { type: 'button', class: 'history-item', title: t('ask.ask_again') },
          h('span', { class: 'history-question', text: item.question }),
          h('span', { class: 'history-time', text: formatTime(item.at) }));
        again.addEventListener('click', () => {
          question.value = item.question;
          ask(item.question);
        });
        history.append(h('li', {}, again));
      }
    } catch (_) {
      clear(history, h('li', { class: 'muted', text: t('ask.history_unavailable') }));
    }
  }

  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const text = question.value.trim();
    if (text && !button.disabled) ask(text);
  });
  question.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
  // One listener for every citation marker and source row, including ones rendered later.
  root.addEventListener('click', (event) => {
    const target = event.target.closest('.cite, .source');
    if (!target || !target.dataset.number || !root.contains(target)) return;
    const number = Number(target.dataset.number);
    const citation = citations.get(number);
    if (!citation) return;
    clearActive();
    for (const node of root.querySelectorAll(`[data-number="${number}"]`)) node.classList.add('active');
    viewer.open(citation);
  });

  loadCollections();
  loadHistory();
  question.focus();
  return () => {
    if (controller) controller.abort();
    viewer.dispose();
  };
}
