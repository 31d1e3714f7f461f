// Strongbox web UI: the Account page: the user's language and their API tokens for scripts
// (a new token is shown once, then only its name and id).
import { get, post, del } from './api.js';
import { t } from './i18n.js';
import { h, clear, errorText, field, formatTime, confirmButton, toast, emptyRow, keyValues, setNotice } from './ui.js';

export function renderAccount(root, ctx) {
  const tbody = h('tbody', { id: 'tokens' });
  const name = h('input', { id: 'token-name', autocomplete: 'off', required: true });
  const error = h('div', { class: 'notice notice-error', hidden: true });
  const created = h('div', { id: 'token-created', hidden: true, class: 'notice notice-ok' });
  const form = h('form', { class: 'inline-form', id: 'add-token' }, field(t('account.token_name'), name),
    h('button', { type: 'submit', class: 'button primary', text: t('account.create_token') }), error);
  root.append(
    h('div', { class: 'page-head' }, h('h1', { text: t('nav.account') })),
    h('section', { class: 'card' }, h('h2', { text: t('account.you') }), keyValues([
      [t('field.user_name'), ctx.user.name], [t('admin.role'), t(`role.${ctx.user.role}`)],
      [t('admin.groups'), (ctx.user.groups || []).join(', ') || '—'], [t('language.label'), t(`language.${ctx.user.language || 'en'}`)]])),
    h('section', { class: 'card' }, h('h2', { text: t('account.tokens') }), h('p', { class: 'muted', text: t('account.tokens_intro') }),
      form, created, h('div', { class: 'table-wrap' }, h('table', { class: 'table' }, h('thead', {}, h('tr', {},
        ['account.token_name', 'account.created', 'docs.actions'].map((k) => h('th', { text: t(k) })))), tbody))));

  async function load() {
    try {
      const body = await get('/api/v1/tokens');
      const tokens = body.tokens || [];
      clear(tbody);
      if (!tokens.length) tbody.append(emptyRow(3, t('account.no_tokens')));
      for (const token of tokens) {
        tbody.append(h('tr', {}, h('td', { text: token.name || `#${token.id}` }), h('td', { text: formatTime(token.created_at || token.at) }),
          h('td', {}, confirmButton(t('account.revoke'), t('common.confirm_delete'), async () => {
            try {
              await del(`/api/v1/tokens/${encodeURIComponent(token.id)}`);
              await load();
            } catch (err) {
              toast(errorText(err), 'error');
            }
          }))));
      }
    } catch (err) {
      clear(tbody, emptyRow(3, errorText(err)));
    }
  }
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    setNotice(error, 'error', '');
    try {
      const body = await post('/api/v1/tokens', { name: name.value.trim() });
      clear(created, h('p', { text: t('account.token_once') }), h('code', { class: 'token', id: 'token-value', text: body.token }));
      created.hidden = false;
      form.reset();
      await load();
    } catch (err) {
      setNotice(error, 'error', errorText(err));
    }
  });
  load();
}
