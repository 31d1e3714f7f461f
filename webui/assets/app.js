// Strongbox web UI: the shell. Resolves who is signed in (/api/v1/me), routes hash URLs to the
// pages each role may use, keeps the navigation and the language in step with the user, and
// sends the page back to sign-in whenever the server says the session is gone.
import { get, post, put, setCsrfToken, onUnauthenticated } from './api.js';
import { t, language, setLanguage, initialLanguage } from './i18n.js';
import { h, clear, field, errorText, setNotice } from './ui.js';
import { renderAsk } from './ask.js';
import { renderDocuments } from './documents.js';
import { renderAudit } from './audit.js';
import { renderAdmin } from './admin.js';
import { renderAccount } from './account.js';

// Pages in navigation order, with the roles that may open them.
const PAGES = [
  { route: 'ask', label: 'nav.ask', roles: ['admin', 'staff'], render: renderAsk },
  { route: 'documents', label: 'nav.documents', roles: ['admin', 'staff'], render: renderDocuments },
  { route: 'audit', label: 'nav.audit', roles: ['admin', 'auditor'], render: renderAudit },
  { route: 'admin', label: 'nav.admin', roles: ['admin'], render: renderAdmin },
  { route: 'account', label: 'nav.account', roles: ['admin', 'staff', 'auditor'], render: renderAccount, hidden: true },
];

const session = { user: null, setupRequired: false };
const root = document.getElementById('app');
let cleanup = null;  // what the current page stops (timers, pollers) when we leave it
let afterLogin = null;

const routeOf = () => (location.hash.replace(/^#\/?/, '') || '').split('/');

function go(route) {
  if (location.hash === `#/${route}`) render();
  else location.hash = `#/${route}`;
}

function homeFor(user) {
  const first = PAGES.find((p) => !p.hidden && p.roles.includes(user.role));
  return first ? first.route : 'account';
}

function signedIn(body) {
  session.user = body.user;
  session.setupRequired = false;
  setCsrfToken(body.csrf_token);
  if (body.user && body.user.language) setLanguage(body.user.language);
}

// ---- the frame around every page ----
function renderFrame() {
  document.documentElement.lang = language();
  document.getElementById('language').value = language();
  document.getElementById('language-label').textContent = t('language.label');
  document.getElementById('footer').textContent = t('footer');
  paintStatus();
  const nav = document.getElementById('nav');
  const [current] = routeOf();
  clear(nav);
  if (session.user) {
    for (const page of PAGES) {
      if (page.hidden || !page.roles.includes(session.user.role)) continue;
      nav.append(h('a', {
        href: `#/${page.route}`, id: `nav-${page.route}`, class: page.route === current ? 'active' : null,
        'aria-current': page.route === current ? 'page' : null, text: t(page.label),
      }));
    }
  }
  const account = document.getElementById('account-link');
  const logout = document.getElementById('logout');
  account.hidden = logout.hidden = !session.user;
  if (session.user) {
    clear(account, h('span', { class: 'account-name', text: session.user.name }),
      h('span', { class: 'role-badge', text: t(`role.${session.user.role}`) }));
    logout.textContent = t('action.sign_out');
  }
}

function render() {
  if (cleanup) {
    cleanup();
    cleanup = null;
  }
  const [route, ...rest] = routeOf();
  if (session.setupRequired) {
    if (route !== 'setup') return go('setup');
  } else if (!session.user) {
    if (route !== 'login') {
      if (route && route !== 'setup') afterLogin = [route, ...rest].join('/');
      return go('login');
    }
  } else {
    const page = PAGES.find((p) => p.route === route && p.roles.includes(session.user.role));
    if (!page) return go(homeFor(session.user));
  }
  renderFrame();
  clear(root);
  root.className = `app page-${route}`;
  if (route === 'setup') return renderSetup();
  if (route === 'login') return renderLogin();
  const page = PAGES.find((p) => p.route === route);
  const ctx = { user: session.user, params: rest, go };
  cleanup = page.render(root, ctx) || null;
  document.title = `${t(page.label)} · Strongbox`;
}

// ---- sign-in and first start ----
function authCard(titleKey, introKey, fields, submitKey, onSubmit) {
  const error = h('div', { class: 'notice notice-error', id: 'auth-error', role: 'alert', hidden: true });
  const submit = h('button', { type: 'submit', class: 'button primary wide', id: 'auth-submit', text: t(submitKey) });
  const form = h('form', { class: 'auth-form', id: 'auth-form', novalidate: true }, fields, error, submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setNotice(error, 'error', '');
    submit.disabled = true;
    try {
      await onSubmit((text) => setNotice(error, 'error', text));
    } catch (err) {
      setNotice(error, 'error', errorText(err));
    } finally {
      submit.disabled = false;
    }
  });
  root.append(h('section', { class: 'auth-card card' },
    h('img', { src: '/assets/favicon.svg', alt: '', width: 48, height: 48, class: 'auth-logo' }),
    h('h1', { text: t(titleKey) }), h('p', { class: 'muted', text: t(introKey) }), form));
  document.title = `${t(titleKey)} · Strongbox`;
  const first = form.querySelector('input');
  if (first) first.focus();
}

function renderLogin() {
  const name = h('input', { id: 'login-name', name: 'username', autocomplete: 'username', required: true });
  const password = h('input', { id: 'login-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  authCard('login.title', 'login.intro', [field(t('field.user_name'), name), field(t('field.password'), password)],
    'action.sign_in', async (fail) => {
      if (!name.value.trim() || !password.value) return fail(t('login.missing'));
      try {
        signedIn(await post('/api/v1/login', { name: name.value.trim(), password: password.value }));
      } catch (err) {
        if (err.status === 401) return fail(t('login.wrong'));
        throw err;
      }
      const target = afterLogin;
      afterLogin = null;
      go(target && PAGES.some((p) => p.route === target.split('/')[0] && p.roles.includes(session.user.role))
        ? target : homeFor(session.user));
    });
}

function renderSetup() {
  const name = h('input', { id: 'setup-name', name: 'username', autocomplete: 'username', value: 'admin', required: true });
  const password = h('input', { id: 'setup-password', type: 'password', autocomplete: 'new-password', required: true });
  const again = h('input', { id: 'setup-password-again', type: 'password', autocomplete: 'new-password', required: true });
  // Needed only from another machine: `strongbox serve` prints it on the appliance's console.
  const code = h('input', { id: 'setup-code', autocomplete: 'off', spellcheck: 'false' });
  authCard('setup.title', 'setup.intro',
    [field(t('field.admin_name'), name), field(t('field.password'), password, t('setup.password_hint')),
      field(t('field.password_again'), again), field(t('field.setup_code'), code, t('setup.code_hint'))],
    'setup.submit', async (fail) => {
      if (!name.value.trim()) return fail(t('login.missing'));
      if (password.value !== again.value) return fail(t('setup.mismatch'));
      try {
        signedIn(await post('/api/v1/setup',
          { name: name.value.trim(), password: password.value, setup_code: code.value.trim() }));
      } catch (err) {
        if (err.status === 403) return fail(t('setup.code_wrong'));
        throw err;
      }
      go(homeFor(session.user));
    });
}

// ---- session state ----
async function loadSession() {
  const me = await get('/api/v1/me');
  session.setupRequired = !!me.setup_required;
  session.user = me.user || null;
  setCsrfToken(me.csrf_token);
  if (me.user && me.user.language) setLanguage(me.user.language);
}

onUnauthenticated(() => {
  if (!session.user) return;
  session.user = null;
  setCsrfToken(null);
  const [route, ...rest] = routeOf();
  if (route && route !== 'login') afterLogin = [route, ...rest].join('/');
  go('login');
});

document.getElementById('logout').addEventListener('click', async () => {
  try {
    await post('/api/v1/logout');
  } catch (_) { /* the session is gone either way */ }
  session.user = null;
  setCsrfToken(null);
  go('login');
});

document.getElementById('language').addEventListener('change', async (event) => {
  const chosen = event.target.value;
  setLanguage(chosen);
  if (session.user) {
    try {
      const body = await put('/api/v1/me/language', { language: chosen });
      if (body && body.user) session.user = body.user;
    } catch (_) { /* still switch this page; the server keeps the old choice */ }
  }
  render();
});

// Liveness in the top bar: a dot and the number of documents, and read-only mode when the disk is
// full, so that nobody has to try an upload to find out.
let health = null;  // last /healthz body, or 'offline'

function paintStatus() {
  const status = document.getElementById('status');
  const text = document.getElementById('status-text');
  if (health === null) return;
  if (health === 'offline') {
    status.className = 'status down';
    text.textContent = t('status.offline');
    return;
  }
  const up = health.status !== 'down';
  const readOnly = up && !!(health.disk && health.disk.read_only);
  status.className = `status ${!up ? 'down' : readOnly ? 'warn' : 'ok'}`;
  status.title = readOnly ? health.disk.reason || '' : '';
  const line = typeof health.documents === 'number'
    ? t('status.online_docs', { n: health.documents }) : t(up ? 'status.online' : 'status.down');
  text.textContent = readOnly ? `${line} · ${t('status.read_only')}` : line;
}

async function refreshStatus() {
  try {
    const response = await fetch('/healthz', { cache: 'no-store' });
    health = await response.json();
    if (!response.ok && health.status === undefined) health.status = 'down';
  } catch (_) {
    health = 'offline';
  }
  paintStatus();
}

window.addEventListener('hashchange', render);
window.addEventListener('strongbox:documents-changed', refreshStatus);

(async () => {
  setLanguage(initialLanguage());
  renderFrame();
  try {
    await loadSession();
  } catch (err) {
    clear(root, h('div', { class: 'notice notice-error', role: 'alert', text: errorText(err) }));
    return;
  }
  render();
  refreshStatus();
  setInterval(refreshStatus, 30000);
})();

