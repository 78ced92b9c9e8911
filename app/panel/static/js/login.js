// The login form: stores the tokens and goes on to the page that was asked for.

import * as api from './api.js';
import { setUpLanguageSwitch, t } from './i18n.js';
import * as session from './session.js';

const form = document.getElementById('login-form');
const errorBox = document.getElementById('login-error');

const ERROR_TEXT = { 401: 'login.failed', 403: 'login.inactive', 429: 'login.rateLimited' };

const PANEL_PAGES = ['/client', '/admin'];

// The page asked for in ?next=, as the server checked it (a panel page, or
// nothing), checked again the way the browser will read it: same origin and a
// panel page, never another site (`/\evil.example/` reads as `//evil.example/`).
function nextPage(user) {
  const fallback = user.role === 'ADMIN' ? '/admin' : '/client';
  const next = form.dataset.next;
  if (!next) return fallback;
  const url = new URL(next, location.origin);
  if (url.origin !== location.origin || !PANEL_PAGES.includes(url.pathname)) return fallback;
  return url.pathname + url.search;
}

function showError(key) {
  errorBox.textContent = t(key);
  errorBox.hidden = false;
}

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  errorBox.hidden = true;
  const button = document.getElementById('login-submit');
  button.disabled = true;
  try {
    const result = await api.login(form.email.value.trim(), form.password.value);
    session.saveLogin(result);
    location.assign(nextPage(result.user));
  } catch (error) {
    showError(ERROR_TEXT[error.status] || 'login.error');
  } finally {
    button.disabled = false;
  }
});

setUpLanguageSwitch();
if (session.accessToken() && session.currentUser()) location.replace(nextPage(session.currentUser()));
