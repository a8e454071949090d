/**
 * Who the console is signed in as. A bearer token lives in sessionStorage only (gone with the
 * tab, never in a URL or a cookie) and is sent as `Authorization`. On Azure with App Service
 * authentication the platform's session cookie signs requests instead: /.auth/me answers the
 * signed-in user, and no token is needed.
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

/** The App Service authentication session, when the console runs behind it. */
export async function appServiceSession(): Promise<{ user: string } | undefined> {
  try {
    const response = await fetch('/.auth/me', { headers: { accept: 'application/json' } });
    if (!response.ok) return undefined;
    const body = (await response.json()) as { user_id?: unknown; clientPrincipal?: { userDetails?: unknown } }[];
    const first = Array.isArray(body) ? body[0] : undefined;
    const user = first?.user_id ?? first?.clientPrincipal?.userDetails;
    return typeof user === 'string' ? { user } : undefined;
  } catch {
    return undefined;
  }
}
