// REST calls of the contract, with the bearer token and one refresh on a 401.

import * as session from './session.js';

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
  }
}

let refreshing = null;

async function request(path, { method = 'GET', body, token, csrf } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (csrf) headers['X-CSRF-TOKEN'] = csrf;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    const error = data?.error || {};
    throw new ApiError(response.status, error.code, error.message);
  }
  return data;
}

// A new access token from the refresh cookie; concurrent callers share one request.
// A refused refresh token ends the session.
export function refreshAccessToken() {
  if (!refreshing) {
    refreshing = request('/api/auth/refresh', { method: 'POST', csrf: session.refreshCsrfToken() })
      .then(({ accessToken }) => {
        // A logout while this was under way cleared the session: keep it cleared.
        if (session.currentUser()) session.saveAccessToken(accessToken);
        return accessToken;
      })
      .catch((error) => {
        if (error.status === 401 || error.status === 403 || error.status === 422) {
          session.redirectToLogin();
        }
        throw error;
      })
      .finally(() => {
        refreshing = null;
      });
  }
  return refreshing;
}

// A call as the signed-in user; an expired access token is refreshed once.
export async function call(path, options = {}) {
  try {
    return await request(path, { ...options, token: session.accessToken() });
  } catch (error) {
    if (error.status !== 401) throw error;
    const token = await refreshAccessToken();
    return request(path, { ...options, token });
  }
}

export function login(email, password) {
  return request('/api/auth/login', {
    method: 'POST',
    body: { email, password, refreshCookie: true },
  });
}

export function logout() {
  return call('/api/auth/logout', { method: 'POST' });
}

export function conversations() {
  return call('/api/conversations');
}

export function messages(conversationId) {
  return call(`/api/conversations/${conversationId}/messages?limit=100`);
}

export function markRead(messageId) {
  return call(`/api/messages/${encodeURIComponent(messageId)}/read`, { method: 'PATCH' });
}

export function sendReply(conversationId, content, clientMessageId) {
  return call(`/api/conversations/${conversationId}/messages`, {
    method: 'POST',
    body: { content, clientMessageId },
  });
}

export function sendTemplate(conversationId, template, clientMessageId) {
  return call(`/api/conversations/${conversationId}/messages`, {
    method: 'POST',
    body: { template, clientMessageId },
  });
}

export function templates() {
  return call('/api/templates');
}

export function retryReply(messageId) {
  return call(`/api/messages/${encodeURIComponent(messageId)}/retry`, { method: 'POST' });
}

export function events(after, limit = 1000) {
  return call(`/api/events?after=${after}&limit=${limit}`);
}

// Whether the server answers at all (no token needed).
export function health() {
  return request('/health');
}

export function realtimeStatus() {
  return call('/api/realtime/status');
}

export function iceServers() {
  return call('/api/realtime/ice-servers');
}

// --- team workflow -----------------------------------------------------------

export function updateConversation(conversationId, changes) {
  return call(`/api/conversations/${conversationId}`, { method: 'PATCH', body: changes });
}

export function addNote(conversationId, content) {
  return call(`/api/conversations/${conversationId}/notes`, { method: 'POST', body: { content } });
}

export function startConversation(customerPhone, customerName, content, clientMessageId) {
  return call('/api/conversations', {
    method: 'POST',
    body: { customerPhone, customerName: customerName || null, content, clientMessageId },
  });
}

export function search(q, limit = 20) {
  return call(`/api/search?q=${encodeURIComponent(q)}&limit=${limit}`);
}

export function cannedResponses() {
  return call('/api/canned-responses');
}

export function createCannedResponse(shortcut, content, shared) {
  return call('/api/canned-responses', { method: 'POST', body: { shortcut, content, shared } });
}

export function deleteCannedResponse(id) {
  return call(`/api/canned-responses/${id}`, { method: 'DELETE' });
}

export function users() {
  return call('/api/users');
}

export function usersPresence() {
  return call('/api/users/presence');
}

export function createUser(fields) {
  return call('/api/users', { method: 'POST', body: fields });
}

export function updateUser(userId, changes) {
  return call(`/api/users/${userId}`, { method: 'PATCH', body: changes });
}

export function reports(since, until) {
  const query = new URLSearchParams();
  if (since) query.set('since', since);
  if (until) query.set('until', until);
  return call(`/api/reports?${query}`);
}
