import { startHost, type StartHostOptions, type TestHost } from '../../../bench/support/host';

/** Three organizations' users, as the dataset integration tests sign in. */
export const TOKENS = {
  alice: 'tok-alice-uis-7f3a9c',
  alice2: 'tok-alice2-uis-0b1d2e',
  bob: 'tok-bob-uio-5e6f70',
  carol: 'tok-carol-uib-8a9b0c',
} as const;
export type Who = keyof typeof TOKENS;
export const USERS: Record<Who, { user: string; org: string }> = {
  alice: { user: 'alice', org: 'uis' },
  alice2: { user: 'amir', org: 'uis' },
  bob: { user: 'bob', org: 'uio' },
  carol: { user: 'carol', org: 'uib' },
};

export interface Reply {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  body: any; // parsed JSON under test: assertions inspect it freely
  text: string;
}

/** A host running the ledgerflow app with the three organizations, and a JSON client for it. */
export class DatasetsApi {
  /** Every response body received, for leak checks. */
  readonly bodies: string[] = [];
  private constructor(readonly host: TestHost) {}

  static async start(settings: Record<string, string> = {}, options: Omit<StartHostOptions, 'settings'> = {}): Promise<DatasetsApi> {
    const tokens = Object.fromEntries(Object.entries(TOKENS).map(([who, token]) => [token, USERS[who as Who]]));
    const host = await startHost({
      ...options,
      settings: { LEDGERFLOW_TOKENS: JSON.stringify(tokens), LEDGER: 'embedded', KEY_STORE: 'file', STORAGE: 'local', ...settings },
    });
    return new DatasetsApi(host);
  }

  async call(who: Who | null, method: string, path: string, requestBody?: unknown, headers: Record<string, string> = {}): Promise<Reply> {
    const body = method === 'GET' || method === 'HEAD' ? undefined : requestBody; // fetch refuses a GET body
    const res = await fetch(`${this.host.url}/api${path}`, {
      method,
      headers: {
        ...(who === null ? {} : { authorization: `Bearer ${TOKENS[who]}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    this.bodies.push(text);
    let parsed: unknown;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    return { status: res.status, body: parsed, text };
  }
}
