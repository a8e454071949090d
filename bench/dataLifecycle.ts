import { randomUUID } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { durableFetch } from './support/durableApi';
import { startHost, type TestHost } from './support/host';
import { HttpLoad } from './support/httpLoad';
import { median, type BenchModule, type BenchRow } from './types';

/**
 * Issue 24: what a run costs on disk (durable store, ledger, run folder) and what
 * `GET /workflows` costs at 100 and at 5,000 stored runs. The listing reads the run index
 * and then the durable status of one page only, so it should stay flat; each row has two
 * baselines from the same run: `GET /health` (the host's cheapest route), and in the
 * `scan` rows the durable management API listing every instance, which is what the listing
 * did before the index. The 5,000 runs are clones of real runs written into the stores while
 * the host is stopped (running them would take an hour).
 */
const REAL_RUNS = 30;
const TOKEN = 'bench-token';
const PAGE = 20;
const SAMPLES = 25;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Bytes the files under `path` take on disk (allocated blocks), and how many. */
function diskUse(path: string): { bytes: number; inodes: number } {
  let bytes = 0;
  let inodes = 0;
  const walk = (p: string) => {
    const st = lstatSync(p, { throwIfNoEntry: false });
    if (st === undefined) return;
    bytes += st.blocks * 512;
    inodes++;
    if (st.isDirectory()) for (const name of readdirSync(p)) walk(join(p, name));
  };
  walk(path);
  return { bytes, inodes };
}

async function timed(fn: () => Promise<unknown>): Promise<number> {
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES + 3; i++) {
    const start = performance.now();
    await fn();
    if (i >= 3) samples.push(performance.now() - start);
  }
  return median(samples);
}

/** Writes `count` copies of the finished run `template` (its 5 instances, their history,
 * its index row) with new ids, newer than everything there. */
function cloneRuns(dataDir: string, template: string, count: number): void {
  const durable = new Database(join(dataDir, 'durable', 'durable.db'));
  const index = new Database(join(dataDir, 'run-index.sqlite'));
  try {
    const instances = durable.prepare("SELECT * FROM instances WHERE instance_id = ? OR instance_id LIKE ? || ':%'").all(template, template) as Record<
      string,
      unknown
    >[];
    const history = durable.prepare("SELECT * FROM history WHERE instance_id = ? OR instance_id LIKE ? || ':%'").all(template, template) as Record<
      string,
      unknown
    >[];
    const row = index.prepare('SELECT * FROM runs WHERE id = ?').get(template) as Record<string, unknown>;
    const swap = (v: unknown, id: string) => (typeof v === 'string' ? v.split(template).join(id) : v);
    const putInstance = durable.prepare(
      'INSERT INTO instances (instance_id, name, execution_id, status, input, output, custom_status, failure, created_at, updated_at, parent_instance_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    const putEvent = durable.prepare('INSERT INTO history (instance_id, seq, event) VALUES (?, ?, ?)');
    const putRow = index.prepare('INSERT INTO runs (id, org, user, created_at, status, dataset_ids, finished_at) VALUES (?, ?, ?, ?, ?, ?, ?)');
    const base = Date.now();
    durable.transaction(() =>
      index.transaction(() => {
        for (let n = 0; n < count; n++) {
          const id = randomUUID();
          const at = base + n;
          for (const i of instances)
            putInstance.run(
              swap(i['instance_id'], id),
              i['name'],
              i['execution_id'],
              i['status'],
              swap(i['input'], id),
              i['output'],
              swap(i['custom_status'], id),
              i['failure'],
              at,
              at,
              swap(i['parent_instance_id'], id),
            );
          for (const e of history) putEvent.run(swap(e['instance_id'], id), e['seq'], swap(e['event'], id));
          putRow.run(id, row['org'], row['user'], new Date(at).toISOString(), row['status'], row['dataset_ids'], new Date(at).toISOString());
        }
      })(),
    )();
  } finally {
    durable.close();
    index.close();
  }
}

/** Every instance's status, page by page, as the durable client's getStatusBy reads them. */
async function scanAll(host: TestHost): Promise<number> {
  let n = 0;
  let token: string | null = null;
  do {
    const res: Response = await durableFetch(host, 'instances?top=100', token === null ? {} : { headers: { 'x-ms-continuation-token': token } });
    n += ((await res.json()) as unknown[]).length;
    token = res.headers.get('x-ms-continuation-token');
  } while (token !== null && token !== '');
  return n;
}

export const dataLifecycle: BenchModule = {
  name: 'data-lifecycle',
  async run() {
    const dataDir = mkdtempSync(join(tmpdir(), 'lf-bench-life-'));
    const settings = {
      LEDGERFLOW_TOKENS: JSON.stringify({ [TOKEN]: { user: 'alice', org: 'uis' } }),
      COMPUTE: 'local',
      LOG_LEVEL: 'warn',
      WORKFLOW_RETENTION: '0',
    };
    let host: TestHost = await startHost({ settings, dataDir });
    const rows: BenchRow[] = [];
    const load = new HttpLoad();
    try {
      const call = async (method: string, path: string, body?: unknown) =>
        (await load.api(host.url, TOKEN, method, path, body)).json<Record<string, unknown>>();
      const dataset = String((await call('POST', '/datasets', { name: 'bench', files: { 'x.txt': 'lorem' } }))['id']);
      await call('POST', `/datasets/${dataset}/lease`, { ttlSeconds: 3600 });
      const volume = `    volumes:\n      - {id: '${dataset}', name: d, path: /data/d}\n`;
      const spec = `jobs:\n  - command: 'cat /data/d/x.txt > out.txt'\n${volume}  - command: 'wc -c out.txt'\n  - command: 'true'\ndags:\n  - 1 >> 2 >> 3\n`;
      const before = { durable: diskUse(join(dataDir, 'durable')), ledger: diskUse(join(dataDir, 'ledger')), runs: diskUse(join(dataDir, 'runs')) };
      const ids: string[] = [];
      for (let i = 0; i < REAL_RUNS; i++) ids.push(String((await call('POST', '/workflows', { workflow: spec }))['id']));
      for (const id of ids) while (!['Succeeded', 'Failed', 'Canceled'].includes(String((await call('GET', `/workflows/${id}`))['status']))) await sleep(50);
      await sleep(1000); // cleanups (queued after each run) end
      await host.stop();
      const per = (now: { bytes: number }, then: { bytes: number }) => (now.bytes - then.bytes) / REAL_RUNS;
      const after = { durable: diskUse(join(dataDir, 'durable')), ledger: diskUse(join(dataDir, 'ledger')), runs: diskUse(join(dataDir, 'runs')) };
      rows.push(
        { name: `disk per run, durable store (${REAL_RUNS} runs of 3 jobs)`, value: per(after.durable, before.durable) / 1024, unit: 'KiB' },
        { name: 'disk per run, ledger', value: per(after.ledger, before.ledger) / 1024, unit: 'KiB' },
        { name: 'disk per run, run folder', value: per(after.runs, before.runs) / 1024, unit: 'KiB' },
        { name: 'inodes per run, run folder', value: (after.runs.inodes - before.runs.inodes) / REAL_RUNS, unit: 'inodes' },
      );

      for (const stored of [100, 5000]) {
        const counter = new Database(join(dataDir, 'run-index.sqlite'), { readonly: true });
        const have = (counter.prepare('SELECT COUNT(*) AS n FROM runs').get() as { n: number }).n;
        counter.close();
        cloneRuns(dataDir, ids[0]!, stored - have);
        host = await startHost({ settings, dataDir });
        await call('GET', `/workflows?limit=${PAGE}`); // the first listing after a start
        const list = await timed(() => call('GET', `/workflows?limit=${PAGE}`));
        const health = await timed(() => load.send(`${host.url}/api/health`));
        const scan = await timed(() => scanAll(host));
        rows.push(
          { name: `GET /workflows?limit=${PAGE} at ${stored} runs (base: GET /health)`, value: list, unit: 'ms', baseline: health, ratio: list / health },
          {
            name: `scan of every durable instance at ${stored} runs (the listing before the index)`,
            value: scan,
            unit: 'ms',
            baseline: list,
            ratio: scan / list,
          },
        );
        await host.stop();
      }
      const [at100, at5000] = rows.filter((r) => r.name.startsWith('GET /workflows')).map((r) => r.value);
      if (at100 !== undefined && at5000 !== undefined)
        rows.push({
          name: 'GET /workflows, 5,000 runs vs 100',
          value: at5000,
          unit: 'ms',
          baseline: at100,
          ratio: at5000 / at100,
          target: 'flat (<= 1.5x)',
          ok: at5000 / at100 <= 1.5,
        });
      return rows;
    } finally {
      load.close();
      await host.kill();
      rmSync(dataDir, { recursive: true, force: true });
    }
  },
};
