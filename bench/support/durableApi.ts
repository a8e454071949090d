import { readFileSync } from 'node:fs';
import { WEBHOOK_PATH } from '../../src/durable/clientConfig';
import { systemKeyPath } from '../../src/durable/systemKey';

/** The durable management API's system key of the host using `dataDir` (the key the host
 * created on its first start), as an operator would read it. */
export function durableSystemKey(dataDir: string): string {
  return readFileSync(systemKeyPath(dataDir), 'utf8').trim();
}

/** Calls the durable management API of a host with its system key (header
 * `x-functions-key`): `durableFetch(host, 'instances/abc')`. */
export function durableFetch(host: { readonly url: string; readonly dataDir: string }, path: string, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  headers.set('x-functions-key', durableSystemKey(host.dataDir));
  return fetch(`${host.url}${WEBHOOK_PATH}/${path}`, { ...init, headers });
}
