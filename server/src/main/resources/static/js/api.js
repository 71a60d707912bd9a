// The REST API as the console calls it: the session cookie authenticates, changes carry the CSRF
// token, and a refusal becomes an ApiError whose message is the problem's own sentence.

let csrfToken = null;
let unauthorizedHandler = () => {};

export const session = {current: null};

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.message || problem.title || 'HTTP ' + status);
    this.status = status;
    this.code = problem.code;
    this.fieldErrors = Array.isArray(problem.errors) ? problem.errors : [];
  }
}

export function onUnauthorized(handler) {
  unauthorizedHandler = handler;
}

async function send(method, path, body, headers = {}, quiet = false) {
  const h = {Accept: 'application/json', ...headers};
  if (body !== undefined) h['Content-Type'] = 'application/json';
  if (method !== 'GET' && csrfToken) h['X-CSRF-Token'] = csrfToken;
  let response;
  try {
    response = await fetch(path, {
      method, headers: h, credentials: 'same-origin',
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (e) {
    throw new ApiError(0, {detail: 'pgfleet cannot be reached: ' + e.message});
  }
  const text = await response.text();
  let data = null;
  if (text) {
    try {
      data = JSON.parse(text);
    } catch (e) {
      data = {detail: 'HTTP ' + response.status + ': the answer was not JSON'};
    }
  }
  if (!response.ok) {
    const error = new ApiError(response.status, data || {});
    if (response.status === 401 && !quiet) unauthorizedHandler(error);
    throw error;
  }
  return data;
}

export const api = {
  get: (path) => send('GET', path),
  post: (path, body = {}) => send('POST', path, body),
  del: (path) => send('DELETE', path),
};

/** Exchanges the key for a session; the key is not kept anywhere afterwards. */
export async function login(key) {
  const s = await send('POST', '/v1/session', undefined, {Authorization: 'Bearer ' + key.trim()}, true);
  csrfToken = s.csrf_token;
  session.current = s;
  return s;
}

/** The session of this browser's cookie, or null when there is none (or it ended). */
export async function restore() {
  try {
    const s = await send('GET', '/v1/session', undefined, {}, true);
    csrfToken = s.csrf_token;
    session.current = s;
    return s;
  } catch (e) {
    if (e.status === 401) return null;
    throw e;
  }
}

export async function logout() {
  try {
    await send('DELETE', '/v1/session');
  } finally {
    csrfToken = null;
    session.current = null;
  }
}

export function canAct() {
  return session.current && session.current.role !== 'viewer';
}

export function isAdmin() {
  return session.current && session.current.role === 'admin';
}

export const enc = encodeURIComponent;
