import { join } from 'node:path';
import { startHost, type TestHost } from './support/host';
import { processCpuMs, rssBytes } from './support/proc';
import { HttpLoad } from './support/httpLoad';
import { median, percentile, type BenchModule, type BenchRow } from './types';

/**
 * The lease race through the whole stack (HTTP, routes, ledger adapter, embedded peer):
 * DATASETS datasets, each raced for by CLIENTS clients at once (every request in flight
 * together). Exactly one request per dataset must win (201) and every other one lose
 * (409); latency is per request, submit to answer. The host's resident memory is read after
 * a full GC before the race and again after it: what the race leaves behind. Then the same
 * race runs again on new datasets, on the host the first race warmed (its rows explain how
 * much of the first race is a freshly started host compiling its request path).
 */
const DATASETS = 20;
const CLIENTS = 100;
const OWNER = 'bench-owner';
const clientToken = (i: number) => `bench-client-${i}`;

/** Asks the host for a full GC (bench/fixtures/gcOnSignal) and returns its RSS after it. */
async function rssAfterGc(host: TestHost): Promise<number> {
  const done = () => host.stdout().split('bench: gc done').length - 1;
  const before = done();
  host.child.kill('SIGUSR2');
  while (done() === before) await new Promise((r) => setTimeout(r, 10));
  return rssBytes(host.child.pid as number);
}

export const leaseRace: BenchModule = {
  name: 'lease-race',
  async run(): Promise<BenchRow[]> {
    const tokens: Record<string, { user: string; org: string }> = { [OWNER]: { user: 'owner', org: 'uis' } };
    for (let i = 0; i < CLIENTS; i++) tokens[clientToken(i)] = { user: `client${i}`, org: 'uio' };
    const host = await startHost({
      settings: { LEDGERFLOW_TOKENS: JSON.stringify(tokens), LEDGER: 'embedded', KEY_STORE: 'file', STORAGE: 'local', LOG_LEVEL: 'warn' },
      env: { NODE_OPTIONS: `--expose-gc --require ${join(__dirname, 'fixtures', 'gcOnSignal.js')}` },
    });
    const load = new HttpLoad();
    try {
      const call = async (token: string, method: string, path: string, body?: unknown): Promise<{ status: number; body: { id?: string } }> => {
        const res = await load.api(host.url, token, method, path, body);
        return { status: res.status, body: res.json<{ id?: string }>() };
      };
      const register = async (name: string): Promise<string> => {
        const r = await call(OWNER, 'POST', '/datasets', { name });
        if (r.status !== 201 || r.body.id === undefined) throw new Error(`register: ${r.status} ${JSON.stringify(r.body)}`);
        return r.body.id;
      };
      // Warm-up: every client's identity issued and each path run once before measuring.
      const warm = await register('warm-up');
      for (let i = 0; i < CLIENTS; i += 10) await Promise.all(Array.from({ length: 10 }, (_, k) => call(clientToken(i + k), 'GET', `/datasets/${warm}`)));
      await call(clientToken(0), 'POST', `/datasets/${warm}/lease`, {});
      // and a take refused because the lease is held, the path of 1,900 of the race's 2,000
      await call(clientToken(1), 'POST', `/datasets/${warm}/lease`, {});
      const registerAll = (name: string) => Promise.all(Array.from({ length: DATASETS }, (_, i) => register(`${name} ${i}`)));
      /** One race over `datasets`: every request in flight at once. */
      const race = async (datasets: readonly string[]) => {
        const latencies: number[] = [];
        const wins = new Map<string, number>(datasets.map((d) => [d, 0]));
        const unexpected: string[] = [];
        const started = performance.now();
        const cpuBefore = processCpuMs(host.child.pid as number) ?? NaN;
        const clientBefore = process.cpuUsage();
        await Promise.all(
          datasets.flatMap((d) =>
            Array.from({ length: CLIENTS }, async (_, i) => {
              const t0 = performance.now();
              const r = await call(clientToken(i), 'POST', `/datasets/${d}/lease`, { ttlSeconds: 3600 });
              latencies.push(performance.now() - t0);
              if (r.status === 201) wins.set(d, (wins.get(d) as number) + 1);
              else if (r.status !== 409) unexpected.push(`${r.status} ${JSON.stringify(r.body)}`);
            }),
          ),
        );
        const wallMs = performance.now() - started;
        const cpuPerRequest = ((processCpuMs(host.child.pid as number) ?? NaN) - cpuBefore) / (DATASETS * CLIENTS);
        const { user, system } = process.cpuUsage(clientBefore);
        const clientCpuPerRequest = (user + system) / 1000 / (DATASETS * CLIENTS);
        if (unexpected.length > 0) throw new Error(`${unexpected.length} lease requests neither won nor lost, e.g. ${unexpected[0]}`);
        return { latencies, wins, wallMs, cpuPerRequest, clientCpuPerRequest };
      };
      const datasets = await registerAll('race');
      const rssBefore = await rssAfterGc(host);
      const { latencies, wins, wallMs, cpuPerRequest, clientCpuPerRequest } = await race(datasets);
      const rssAfter = await rssAfterGc(host);
      // The same race again on the host the first one warmed: the difference is what a
      // freshly started host spends compiling and warming the request path (explains, no target).
      const again = await race(await registerAll('race again'));
      if (![...again.wins.values()].every((n) => n === 1)) throw new Error('the race on the warmed host had a dataset without exactly one winner');
      const oneWinnerEach = [...wins.values()].every((n) => n === 1);
      const p95 = percentile(latencies, 95);
      const mib = (b: number) => b / 2 ** 20;
      const label = `${DATASETS * CLIENTS} leases, ${CLIENTS} clients per dataset`;
      return [
        { name: `${label}: latency p50`, value: median(latencies), unit: 'ms' },
        { name: `${label}: latency p95`, value: p95, unit: 'ms', target: '< 2000 ms', ok: p95 < 2000 },
        { name: `${label}: wall time`, value: wallMs, unit: 'ms' },
        // CPU, unlike latency, does not depend on what else shares the machine.
        { name: `${label}: host CPU per request (all threads)`, value: cpuPerRequest, unit: 'ms' },
        // The load generator shares the cores with the host: what it takes from the host's.
        { name: `${label}: the bench client's CPU per request`, value: clientCpuPerRequest, unit: 'ms' },
        {
          name: `${label}: datasets with exactly one winner`,
          value: [...wins.values()].filter((n) => n === 1).length,
          unit: 'datasets',
          target: `all ${DATASETS}`,
          ok: oneWinnerEach,
        },
        { name: `${label}, again on the warmed host: latency p95`, value: percentile(again.latencies, 95), unit: 'ms' },
        { name: `${label}, again on the warmed host: host CPU per request (all threads)`, value: again.cpuPerRequest, unit: 'ms' },
        {
          name: 'host RSS after the race and a GC',
          value: mib(rssAfter),
          unit: 'MiB',
          baseline: mib(rssBefore),
          ratio: rssAfter / rssBefore,
          target: '<= 1.5x before',
          ok: rssAfter <= 1.5 * rssBefore,
        },
      ];
    } finally {
      load.close();
      await host.kill();
    }
  },
};
