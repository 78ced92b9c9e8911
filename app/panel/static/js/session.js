// The signed-in user's access token and profile, kept in localStorage so every tab
// shares them. The refresh token is not here: the login put it in an HttpOnly
// cookie that only POST /api/auth/refresh receives, out of reach of page scripts;
// the page sends back the csrf_refresh_token cookie's value with that request.

const ACCESS = 'accessToken';
const USER = 'user';
const LEGACY_REFRESH = 'refreshToken'; // where earlier versions kept it: removed on sight

export function accessToken() {
  return localStorage.getItem(ACCESS);
}

// The double-submit value that goes with the refresh cookie (X-CSRF-TOKEN).
export function refreshCsrfToken() {
  const entry = document.cookie.split('; ').find((item) => item.startsWith('csrf_refresh_token='));
  return entry ? decodeURIComponent(entry.slice('csrf_refresh_token='.length)) : null;
}

export function currentUser() {
  try {
    return JSON.parse(localStorage.getItem(USER));
  } catch {
    return null;
  }
}

export function saveLogin({ accessToken: access, user }) {
  localStorage.setItem(ACCESS, access);
  localStorage.removeItem(LEGACY_REFRESH);
  localStorage.setItem(USER, JSON.stringify(user));
}

export function saveAccessToken(token) {
  localStorage.setItem(ACCESS, token);
}

export function clearSession() {
  [ACCESS, LEGACY_REFRESH, USER].forEach((key) => localStorage.removeItem(key));
}

// Leave for the login page, coming back here afterwards.
export function redirectToLogin() {
  clearSession();
  const next = encodeURIComponent(location.pathname + location.search);
  location.assign(`/login?next=${next}`);
}
