// The login form: stores the tokens and goes on to the page that was asked for.

import * as api from './api.js';
import { setUpLanguageSwitch, t } from './i18n.js';
import * as session from './session.js';

const form = document.getElementById('login-form');
const errorBox = document.getElementById('login-error');

const ERROR_TEXT = { 401: 'login.failed', 403: 'login.inactive', 429: 'login.rateLimited' };

// Only a path on this site: never forward to another origin.
function nextPage(user) {
  const next = new URLSearchParams(location.search).get('next');
  if (next && next.startsWith('/') && !next.startsWith('//')) return next;
  return user.role === 'ADMIN' ? '/admin' : '/client';
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
