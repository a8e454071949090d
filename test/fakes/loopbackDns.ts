/**
 * Preloaded into a host process under test (`NODE_OPTIONS=--require .../loopbackDns.js`), like
 * an /etc/hosts entry: names under `.vault.test`, `.file.test` and `.table.test` resolve to the
 * loopback, where the Key Vault, Azure Files and Azure Tables fakes listen. Product code is unchanged; only name resolution is.
 */
import dns from 'node:dns';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | dns.LookupAddress[], family?: number) => void;
const original = dns.lookup.bind(dns) as (...args: unknown[]) => void;

function lookup(hostname: string, options: unknown, callback?: unknown): void {
  const cb = (typeof options === 'function' ? options : callback) as LookupCallback;
  const opts = (typeof options === 'object' && options !== null ? options : {}) as { all?: boolean };
  if (hostname.endsWith('.vault.test') || hostname.endsWith('.file.test') || hostname.endsWith('.table.test')) {
    process.nextTick(() => (opts.all ? cb(null, [{ address: '127.0.0.1', family: 4 }]) : cb(null, '127.0.0.1', 4)));
    return;
  }
  original(hostname, options, callback);
}

(dns as { lookup: unknown }).lookup = lookup;
