/**
 * Who the console is signed in as. A bearer token lives in sessionStorage only (gone with the
 * tab, never in a URL or a cookie) and is sent as `Authorization`. On Azure with App Service
 * authentication the platform's session cookie signs requests instead (the app reads the
 * principal App Service passes it), and no token is needed.
 */
const KEY = 'ledgerflow.token';

export interface Identity {
  user: string;
  org: string;
  via: 'token' | 'app-service';
}

export function authorization(): string | undefined {
  const token = sessionStorage.getItem(KEY);
  return token === null ? undefined : `Bearer ${token}`;
}

export function rememberToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forget(): void {
  sessionStorage.removeItem(KEY);
}

/** Whether App Service authentication fronts the app (on Azure): its `/.auth/me` answers
 * (401 without a session, 200 with one); the embedded host has no such route (404). */
export async function appServiceAuthentication(): Promise<boolean> {
  try {
    return (await fetch('/.auth/me', { headers: { accept: 'application/json' } })).status !== 404;
  } catch {
    return false;
  }
}

/** App Service authentication's sign-in, coming back to the console. */
export const APP_SERVICE_LOGIN = '/.auth/login/aad?post_login_redirect_uri=/';
