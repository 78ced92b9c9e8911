// What every signed-in page shares: the auth guard, the header and the connection badge.

import * as api from './api.js';
import { setUpLanguageSwitch, t } from './i18n.js';
import * as session from './session.js';
import { SocketClient } from './socket-client.js';

// The signed-in user, or null after sending the browser to the login page
// (or, for adminOnly pages seen by an agent, to the agent panel).
export function startPage({ adminOnly = false } = {}) {
  const user = session.currentUser();
  if (!session.accessToken() || !user) {
    session.redirectToLogin();
    return null;
  }
  if (adminOnly && user.role !== 'ADMIN') {
    location.replace('/client');
    return null;
  }
  setUpLanguageSwitch();
  document.getElementById('current-user').textContent = user.name || user.email;
  document.getElementById('admin-link').hidden = user.role !== 'ADMIN';
  document.getElementById('logout-button').addEventListener('click', logOut);
  return user;
}

async function logOut() {
  // Close the socket first: once the token is revoked the server cuts it, and a
  // reconnecting client would refresh and store tokens again.
  window.socketClient?.disconnect();
  try {
    await api.logout();
  } catch {
    // The token is dropped below either way.
  }
  session.clearSession();
  location.assign('/login');
}

// The page's SocketClient (also window.socketClient, as the seed's pages expect),
// with the header badge following its state and a toast when it drops or returns.
export function createSocketClient() {
  const client = new SocketClient();
  window.socketClient = client;
  const badge = document.getElementById('connection-badge');
  const show = () => {
    badge.dataset.state = client.state;
    badge.textContent = t(`connection.${client.state}`);
  };
  client.on('state', show);
  client.on('reconnected', () => client.showNotification(t('notify.reconnected'), 'success'));
  client.on('polling', () => client.showNotification(t('notify.connectionError'), 'error'));
  document.addEventListener('languagechange', show);
  show();
  return client;
}
