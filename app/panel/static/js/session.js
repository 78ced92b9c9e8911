// The signed-in user's tokens, kept in localStorage so every tab shares them.

const ACCESS = 'accessToken';
const REFRESH = 'refreshToken';
const USER = 'user';

export function accessToken() {
  return localStorage.getItem(ACCESS);
}

export function refreshToken() {
  return localStorage.getItem(REFRESH);
}

export function currentUser() {
  try {
    return JSON.parse(localStorage.getItem(USER));
  } catch {
    return null;
  }
}

export function saveLogin({ accessToken: access, refreshToken: refresh, user }) {
  localStorage.setItem(ACCESS, access);
  localStorage.setItem(REFRESH, refresh);
  localStorage.setItem(USER, JSON.stringify(user));
}

export function saveAccessToken(token) {
  localStorage.setItem(ACCESS, token);
}

export function clearSession() {
  [ACCESS, REFRESH, USER].forEach((key) => localStorage.removeItem(key));
}

// Leave for the login page, coming back here afterwards.
export function redirectToLogin() {
  clearSession();
  const next = encodeURIComponent(location.pathname + location.search);
  location.assign(`/login?next=${next}`);
}
