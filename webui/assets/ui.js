// Strongbox web UI: DOM helpers shared by the pages. Text is only ever set through textContent
// (never as HTML), and nothing sets a style attribute in markup: the CSP forbids inline style.
import { t, language } from './i18n.js';

// h('button', {class: 'primary', type: 'submit', on: {click: fn}}, 'Save') -> element.
// Attribute values of false/null/undefined are left out; `text` sets textContent; `data` sets
// data-* attributes; `props` sets DOM properties (value, checked, disabled...).
export function h(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'on') for (const [event, fn] of Object.entries(value)) node.addEventListener(event, fn);
    else if (key === 'data') for (const [name, v] of Object.entries(value)) node.dataset[name] = String(v);
    else if (key === 'props') Object.assign(node, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  append(node, children);
  return node;
}

export function append(node, ...children) {
  appendAll(node, children);
  return node;
}

function appendAll(node, children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (Array.isArray(child)) appendAll(node, child);
    else node.append(child instanceof Node ? child : String(child));
  }
}

export function clear(node, ...children) {
  node.replaceChildren();
  appendAll(node, children);
  return node;
}

// A status line that pages reuse for errors and confirmations.
export function notice(kind, text) {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status', text });
}

export function setNotice(node, kind, text) {
  node.className = `notice notice-${kind}`;
  node.textContent = text || '';
  node.hidden = !text;
}

// Short-lived message in the corner, e.g. "Saved".
export function toast(text, kind = 'ok') {
  const region = document.getElementById('toasts');
  if (!region) return;
  const item = h('div', { class: `toast toast-${kind}`, role: 'status', text });
  region.append(item);
  while (region.children.length > 3) region.firstChild.remove();
  setTimeout(() => item.remove(), 3000);
}

// The message to show for an ApiError or a network failure, in the user's language.
export function errorText(err) {
  if (!err) return '';
  if (err.code === 'too_many_attempts' && err.retryAfter) return t('error.too_many_attempts', { seconds: err.retryAfter });
  if (err.code === 'csrf') return t('error.csrf');
  if (err.code === 'forbidden' || err.code === 'permission_denied') return t('error.forbidden');
  if (err.name === 'TypeError') return t('error.network');
  return err.message || String(err);
}

// Times arrive as ISO-8601 strings or Unix seconds; both are shown in the local time zone.
export function toDate(value) {
  if (value === undefined || value === null || value === '') return null;
  if (typeof value === 'number') return new Date(value < 1e12 ? value * 1000 : value);
  const date = new Date(value);
  return Number.isNaN(date.getTime()) ? null : date;
}

export function formatTime(value) {
  const date = toDate(value);
  if (!date) return value ? String(value) : '';
  return new Intl.DateTimeFormat(language() === 'ko' ? 'ko-KR' : 'en-GB', {
    year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit',
  }).format(date);
}

export function formatBytes(bytes) {
  if (typeof bytes !== 'number' || !Number.isFinite(bytes)) return '';
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${value >= 10 || unit === 0 ? Math.round(value) : value.toFixed(1)} ${units[unit]}`;
}

export function formatNumber(value) {
  return typeof value === 'number' ? new Intl.NumberFormat(language() === 'ko' ? 'ko-KR' : 'en-US').format(value) : '';
}

// A button that asks for a second click before acting, instead of a blocking confirm() dialog.
export function confirmButton(label, confirmLabel, action, className = 'button danger small') {
  let armed = null;
  const button = h('button', { type: 'button', class: className, text: label });
  button.addEventListener('click', async () => {
    if (!armed) {
      button.textContent = confirmLabel;
      button.classList.add('armed');
      armed = setTimeout(() => {
        armed = null;
        button.textContent = label;
        button.classList.remove('armed');
      }, 4000);
      return;
    }
    clearTimeout(armed);
    armed = null;
    button.disabled = true;
    try {
      await action();
    } finally {
      button.disabled = false;
      button.textContent = label;
      button.classList.remove('armed');
    }
  });
  return button;
}

// Label + control + per-field error line, the shape every form on the page uses.
export function field(label, control, hint) {
  const id = control.id || `f-${Math.random().toString(36).slice(2, 9)}`;
  control.id = id;
  const error = h('p', { class: 'field-error', id: `${id}-error`, hidden: true });
  control.setAttribute('aria-describedby', error.id);
  const wrapper = h('div', { class: 'field' },
    h('label', { for: id, text: label }), control, hint ? h('p', { class: 'field-hint', text: hint }) : null, error);
  wrapper.setError = (text) => {
    error.textContent = text || '';
    error.hidden = !text;
    control.classList.toggle('invalid', !!text);
    if (text) control.setAttribute('aria-invalid', 'true');
    else control.removeAttribute('aria-invalid');
  };
  return wrapper;
}

export function keyValues(entries) {
  const list = h('dl', { class: 'kv' });
  for (const [term, value] of entries) {
    if (value === undefined || value === null || value === '') continue;
    list.append(h('dt', { text: term }), h('dd', { text: typeof value === 'object' ? JSON.stringify(value) : String(value) }));
  }
  return list;
}

export function emptyRow(columns, text) {
  return h('tr', { class: 'empty-row' }, h('td', { colspan: columns, text }));
}
