// Strongbox web UI: the one place that talks to the server. Adds the CSRF token to every
// state-changing request, turns error bodies into ApiError, and reports a lost session (401) so
// the page can go back to the sign-in form.

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let csrfToken = null;
let onSessionLost = () => {};

export function setCsrfToken(token) { csrfToken = token || null; }
export function onUnauthenticated(handler) { onSessionLost = handler; }

// An error answered by the server: `code` and `message` from its error body, `fields` for
// per-field validation errors (settings), `retryAfter` in seconds when it asked us to wait.
export class ApiError extends Error {
  constructor(status, code, message, fields, retryAfter) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = fields || null;
    this.retryAfter = retryAfter || null;
  }
}

async function toError(response) {
  let code = 'http_' + response.status;
  let message = `${response.status} ${response.statusText}`;
  let fields = null;
  try {
    const body = await response.json();
    if (body && body.error) {
      code = body.error.code || code;
      message = body.error.message || message;
      fields = body.error.fields || (body.error.details && body.error.details.fields) || null;
    }
  } catch (_) { /* not JSON */ }
  return new ApiError(response.status, code, message, fields, response.headers.get('Retry-After'));
}

// Sends a request and returns the response itself (for streams and downloads) once it is 2xx.
// `json` is sent as a JSON body; `body` as raw bytes (File, Blob, ArrayBuffer).
export async function request(method, path, { json, body, accept, signal } = {}) {
  const headers = {};
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  else if (body !== undefined) headers['Content-Type'] = 'application/octet-stream';
  if (accept) headers.Accept = accept;
  if (STATE_CHANGING.has(method) && csrfToken) headers['X-CSRF-Token'] = csrfToken;
  const response = await fetch(path, {
    method,
    headers,
    body: json !== undefined ? JSON.stringify(json) : body,
    credentials: 'same-origin',
    cache: 'no-store',
    signal,
  });
  if (response.ok) return response;
  const error = await toError(response);
  // Signing in with a wrong password is also 401; only a lost session sends the page back.
  if (response.status === 401 && !path.startsWith('/api/v1/login') && !path.startsWith('/api/v1/setup')) {
    onSessionLost(error);
  }
  throw error;
}

// Sends a request and returns the parsed JSON body (null for 204 and empty bodies).
export async function api(method, path, options) {
  const response = await request(method, path, options);
  if (response.status === 204) return null;
  const text = await response.text();
  return text ? JSON.parse(text) : null;
}

export const get = (path) => api('GET', path);
export const post = (path, json) => api('POST', path, { json: json === undefined ? {} : json });
export const put = (path, json) => api('PUT', path, { json });
export const patch = (path, json) => api('PATCH', path, { json });
export const del = (path) => api('DELETE', path);

// Builds "path?a=1&b=2" from the non-empty entries of `params`.
export function withQuery(path, params) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params || {})) {
    if (value !== undefined && value !== null && value !== '') query.set(key, String(value));
  }
  const text = query.toString();
  return text ? `${path}?${text}` : path;
}

// Reads a server-sent event stream from a fetch response, calling onEvent(name, data) per event.
export async function readEvents(response, onEvent) {
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const flush = (block) => {
    let name = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith('event:')) name = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).trimStart());
    }
    if (data.length) onEvent(name, JSON.parse(data.join('\n')));
  };
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buffer += decoder.decode(value, { stream: true }).replace(/\r\n/g, '\n');
    let cut;
    while ((cut = buffer.indexOf('\n\n')) >= 0) {
      flush(buffer.slice(0, cut));
      buffer = buffer.slice(cut + 2);
    }
  }
  if (buffer.trim()) flush(buffer);
}
