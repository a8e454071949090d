import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { OrchestrationContext, OrchestrationHandler } from 'durable-functions';
import { DurableEngine } from '../src/durable/engine';
import { DurableStore } from '../src/durable/store';
import { durableSystemKey } from './support/durableApi';
import { HttpLoad } from './support/httpLoad';
import { directPort } from './support/durableDirectPort';
import { processCpuMs, threadCpuMs } from './support/proc';
import { median, type BenchModule, type BenchRow } from './types';

/**
 * Embedded durable engine throughput, each figure against a baseline measured in the same
 * run: the same steps as plain async calls, with one fsync'd SQLite write per step (what
 * a hand-written "durable" loop would pay). Orchestrators and activities run through the
 * real SDK handlers in-process (JSON across the boundary, as through the host).
 */

const CHAINS = 300;
/** Before the chain rounds are measured, the direct engine and the host each run the same
 * WARM_UP_ROUNDS unmeasured rounds of CHAINS chains. One round was not enough for the host:
 * its much larger invocation path (HTTP, the programming model, the SDK's client) was still
 * being compiled by V8 in the rounds measured after it: TurboFan on V8's background threads
 * was 20-35% of the host's CPU there (perf), and host CPU per orchestration fell from
 * 2.0-3.1 ms after one round to 1.3-1.5 ms after four, while the direct engine's stayed at
 * 0.8-1.2 ms (both warmed up alike; the host's start is measured by its own row). */
const WARM_UP_ROUNDS = 4;
const warmUpChains = (): number[] => Array.from({ length: CHAINS }, (_, i) => i);
const SEQUENTIAL = 100;
const ROUNDS = 3;

const orchestrators: Record<string, OrchestrationHandler> = {
  chain3: function* (ctx: OrchestrationContext) {
    let x = ctx.df.getInput() as number;
    for (let i = 0; i < 3; i++) x = (yield ctx.df.callActivity('inc', x)) as number;
    return x;
  },
  sequence: function* (ctx: OrchestrationContext) {
    const n = ctx.df.getInput() as number;
    let x = 0;
    for (let i = 0; i < n; i++) x = (yield ctx.df.callActivity('inc', x)) as number;
    return x;
  },
  fan: function* (ctx: OrchestrationContext) {
    const n = ctx.df.getInput() as number;
    const tasks = [];
    for (let i = 0; i < n; i++) tasks.push(ctx.df.callActivity('inc', i));
    const r = (yield ctx.df.Task.all(tasks)) as number[];
    return r.length;
  },
};
const activities = { inc: async (x: unknown) => (x as number) + 1 };

async function withEngine<T>(fn: (engine: DurableEngine) => Promise<T>): Promise<T> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-durable-'));
  const store = new DurableStore(join(dir, 'durable.db'));
  const engine = new DurableEngine({ store, functions: directPort(orchestrators, activities), maxConcurrentActivities: 64 });
  engine.start();
  try {
    return await fn(engine);
  } finally {
    await engine.stop();
    engine.close();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function runToCompletion(engine: DurableEngine, name: string, inputs: unknown[]): Promise<number> {
  const t0 = performance.now();
  const ids = await Promise.all(inputs.map((input) => engine.startNew(name, { input })));
  await engine.idle();
  const ms = performance.now() - t0;
  for (const id of ids) {
    const status = engine.getStatus(id)?.row.status;
    if (status !== 'Completed') throw new Error(`${name} ended ${status}`);
  }
  return ms;
}

/** Baseline: `steps` async steps per flow, each followed by its own fsync'd SQLite insert. */
async function baseline(flows: number, steps: number, parallelSteps: boolean): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'bench-base-'));
  const db = new Database(join(dir, 'b.db'));
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = FULL');
  db.exec('CREATE TABLE steps (flow INTEGER, step INTEGER, result TEXT)');
  const insert = db.prepare('INSERT INTO steps VALUES (?, ?, ?)');
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: flows }, async (_, f) => {
      insert.run(f, -1, 'started');
      if (parallelSteps) {
        await Promise.all(Array.from({ length: steps }, async (_, i) => insert.run(f, i, JSON.stringify(await activities.inc(i)))));
      } else {
        let x = 0;
        for (let i = 0; i < steps; i++) insert.run(f, i, JSON.stringify((x = await activities.inc(x))));
      }
      insert.run(f, steps, 'completed');
    }),
  );
  const ms = performance.now() - t0;
  db.close();
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

/**
 * The same work through the embedded host in a child process (as `npm start`): started
 * over HTTP by a function using `df.getClient`, each orchestrator and activity a host
 * invocation through the programming model; timed until the status API says Completed.
 */
async function viaHost<T>(
  fn: (
    start: (name: string, input: unknown) => Promise<string>,
    waitAll: (ids: string[]) => Promise<void>,
    hostCpuMs: () => number,
    hostMainThreadCpuMs: () => number,
    /** POSTs `body` as JSON to an app route; resolves with the parsed answer. */
    post: (path: string, body: unknown) => Promise<unknown>,
  ) => Promise<T>,
): Promise<T> {
  const appDir = mkdtempSync(join(tmpdir(), 'bench-durable-app-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'bench-durable-data-'));
  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ main: join(__dirname, 'fixtures', 'durableApp.js') }));
  writeFileSync(join(appDir, 'host.json'), JSON.stringify({ version: '2.0', extensions: { durableTask: { maxConcurrentActivityFunctions: 64 } } }));
  const child = spawn(process.execPath, [resolve(__dirname, '..', 'src', 'host', 'main.js')], {
    env: { ...process.env, PORT: '0', LEDGERFLOW_APP_DIR: appDir, LEDGERFLOW_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  try {
    const url = await new Promise<string>((res, rej) => {
      let out = '';
      child.stdout?.setEncoding('utf8').on('data', (d: string) => {
        out += d;
        const m = /ready at (http:\/\/\S+)/.exec(out);
        if (m) res(m[1] as string);
      });
      child.once('exit', () => rej(new Error(`host exited: ${out}`)));
    });
    const load = new HttpLoad();
    const systemKey = durableSystemKey(dataDir);
    const start = async (name: string, input: unknown): Promise<string> => {
      const r = await load.send(`${url}/api/start/${name}`, { method: 'POST', body: JSON.stringify(input) });
      return r.json<{ id: string }>().id;
    };
    const waitAll = async (ids: string[]): Promise<void> => {
      for (const id of ids) {
        for (;;) {
          const r = await load.send(`${url}/runtime/webhooks/durabletask/instances/${id}`, { headers: { 'x-functions-key': systemKey } });
          const s = r.json<{ runtimeStatus: string }>().runtimeStatus;
          if (s === 'Completed') break;
          if (s === 'Failed') throw new Error(`${id} failed`);
          await new Promise((w) => setTimeout(w, 2));
        }
      }
    };
    const pid = child.pid as number;
    try {
      return await fn(
        start,
        waitAll,
        () => processCpuMs(pid) ?? NaN,
        () => threadCpuMs(pid, pid) ?? NaN,
        async (path, body) => (await load.send(`${url}${path}`, { method: 'POST', body: JSON.stringify(body) })).json(),
      );
    } finally {
      load.close();
    }
  } finally {
    child.kill('SIGKILL');
    rmSync(appDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const round = (n: number): number => Math.round(n * 100) / 100;

/** Runs `run` and adds the CPU milliseconds `cpuMs` advanced by (all threads) to `into`. */
async function withCpu<T>(cpuMs: () => number, into: number[], run: () => Promise<T>): Promise<T> {
  const c0 = cpuMs();
  const result = await run();
  into.push(cpuMs() - c0);
  return result;
}
const ownCpuMs = (): number => {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
};
const ownMainThreadCpuMs = (): number => threadCpuMs(process.pid, process.pid) ?? NaN;

/** An informational row: CPU milliseconds per unit of work through the host against the direct engine's. */
function cpuRow(name: string, hostMs: number, directMs: number): BenchRow {
  return { name, value: round(hostMs), unit: 'ms CPU', baseline: round(directMs), ratio: round(hostMs / directMs) };
}

/** A throughput row (higher is better) against its baseline; `min` is DESIGN.md's floor,
 * `minRatio` the least ratio to the baseline. */
function throughput(name: string, value: number, unit: string, base: number, min?: number, minRatio = 0.5): BenchRow {
  const ratio = value / base;
  return {
    name,
    value: round(value),
    unit,
    baseline: round(base),
    ratio: round(ratio),
    target: `>= ${minRatio}x baseline${min === undefined ? '' : `, >= ${min} ${unit}`}`,
    ok: ratio >= minRatio && (min === undefined || value >= min),
  };
}

/**
 * Engine and baseline runs alternate, and each figure is the median of ROUNDS: fsync
 * latency on a shared machine swings by 10x within seconds, and both sides must see the
 * same disk.
 */
async function paired(engineRun: () => Promise<number>, baselineRun: () => Promise<number>): Promise<{ engine: number; base: number }> {
  const e: number[] = [];
  const b: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    e.push(await engineRun());
    b.push(await baselineRun());
  }
  return { engine: median(e), base: median(b) };
}

export async function run(): Promise<BenchRow[]> {
  const rows: BenchRow[] = [];
  // The direct engine's figures, the baselines of the same work through the host.
  let chainsDirect = NaN;
  let fanDirectMs = NaN;
  // CPU ms per round (all threads), to tell what the host adds from what waits for the disk.
  const chainsDirectCpu: number[] = [];
  const chainsDirectMainCpu: number[] = [];
  const fanDirectCpu: number[] = [];
  await withEngine(async (engine) => {
    for (let round = 0; round < WARM_UP_ROUNDS; round++) await runToCompletion(engine, 'chain3', warmUpChains());
    const { engine: ms, base } = await paired(
      () =>
        withCpu(ownCpuMs, chainsDirectCpu, () =>
          withCpu(ownMainThreadCpuMs, chainsDirectMainCpu, () =>
            runToCompletion(
              engine,
              'chain3',
              Array.from({ length: CHAINS }, (_, i) => i),
            ),
          ),
        ),
      () => baseline(CHAINS, 3, false),
    );
    chainsDirect = (CHAINS * 1000) / ms;
    rows.push(throughput(`${CHAINS} 3-activity chains`, chainsDirect, 'orchestrations/s', (CHAINS * 1000) / base));
  });
  await withEngine(async (engine) => {
    await runToCompletion(engine, 'sequence', [SEQUENTIAL]); // warm-up
    const cpu: number[] = [];
    const commitMs: number[] = [];
    const commits: number[] = [];
    const { engine: ms, base } = await paired(
      async () => {
        const c0 = process.cpuUsage();
        const { ms: k0, transactions: n0 } = engine.commitStats;
        const t = await runToCompletion(engine, 'sequence', [SEQUENTIAL]);
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / SEQUENTIAL);
        commitMs.push(((engine.commitStats.ms - k0) * 1000) / SEQUENTIAL);
        commits.push((engine.commitStats.transactions - n0) / SEQUENTIAL);
        return t;
      },
      () => baseline(1, SEQUENTIAL, false),
    );
    rows.push(throughput(`${SEQUENTIAL} sequential activities`, (SEQUENTIAL * 1000) / ms, 'activities/s', (SEQUENTIAL * 1000) / base, 500, 0.6));
    // Where a sequential step goes: the commit (SQLite and its fsync, the baseline's whole
    // step; on the engine's writer thread, overlapping the next steps, which share it when
    // they come sooner) and the CPU of all threads (mostly the SDK replaying the history). No target.
    const baseStepUs = (base * 1000) / SEQUENTIAL;
    rows.push({
      name: `${SEQUENTIAL} sequential: commit per step`,
      value: round(median(commitMs)),
      unit: 'µs',
      baseline: round(baseStepUs),
      ratio: round(median(commitMs) / baseStepUs),
    });
    // Below 1 when steps come faster than fsyncs: the steps written during one commit share the next.
    rows.push({ name: `${SEQUENTIAL} sequential: commits per step`, value: round(median(commits)), unit: 'commits' });
    rows.push({
      name: `${SEQUENTIAL} sequential: CPU per step`,
      value: round(median(cpu)),
      unit: 'µs',
      baseline: round(baseStepUs),
      ratio: round(median(cpu) / baseStepUs),
    });
  });
  const perActivity = new Map<number, number>();
  for (const n of [100, 1000]) {
    await withEngine(async (engine) => {
      const { engine: ms, base } = await paired(
        () => withCpu(ownCpuMs, n === 1000 ? fanDirectCpu : [], () => runToCompletion(engine, 'fan', [n])),
        () => baseline(1, n, true),
      );
      perActivity.set(n, (ms * 1000) / n);
      if (n !== 1000) return;
      fanDirectMs = ms;
      rows.push({
        name: '1,000-activity fan-out/fan-in',
        value: round(ms),
        unit: 'ms',
        baseline: round(base),
        ratio: round(ms / base),
        target: '<= 2x baseline',
        ok: ms <= 2 * base,
      });
      rows.push(throughput('parallel activities (1,000 fan-out)', (n * 1000) / ms, 'activities/s', (n * 1000) / base, 2000));
    });
  }
  await viaHost(async (start, waitAll, hostCpuMs, hostMainThreadCpuMs, post) => {
    for (let round = 0; round < WARM_UP_ROUNDS; round++) await waitAll(await Promise.all(warmUpChains().map((i) => start('chain3', i))));
    const chainsHostCpu: number[] = [];
    const chainsHostMainCpu: number[] = [];
    const chainsClientCpu: number[] = [];
    const { engine: ms, base } = await paired(
      () =>
        withCpu(ownCpuMs, chainsClientCpu, () =>
          withCpu(hostCpuMs, chainsHostCpu, () =>
            withCpu(hostMainThreadCpuMs, chainsHostMainCpu, async () => {
              const t0 = performance.now();
              await waitAll(await Promise.all(Array.from({ length: CHAINS }, (_, i) => start('chain3', i))));
              return performance.now() - t0;
            }),
          ),
        ),
      () => baseline(CHAINS, 3, false),
    );
    // Against the fsync'd loop (informational), then against the direct engine (issue #20):
    // what HTTP starts, the durable client and the host's invocation path add.
    rows.push({
      name: `${CHAINS} 3-activity chains, via the host`,
      value: round((CHAINS * 1000) / ms),
      unit: 'orchestrations/s',
      baseline: round((CHAINS * 1000) / base),
      ratio: round(base / ms),
    });
    rows.push(throughput(`${CHAINS} 3-activity chains, via the host vs the direct engine`, (CHAINS * 1000) / ms, 'orchestrations/s', chainsDirect));
    // The host's CPU includes serving the HTTP starts and status reads.
    rows.push(
      cpuRow(`${CHAINS} 3-activity chains: CPU per orchestration, host vs direct engine`, median(chainsHostCpu) / CHAINS, median(chainsDirectCpu) / CHAINS),
    );
    // The main thread alone (what bounds throughput): the rest is V8's compiler and GC
    // threads and the durable writer thread.
    rows.push(
      cpuRow(
        `${CHAINS} 3-activity chains: main-thread CPU per orchestration, host vs direct engine`,
        median(chainsHostMainCpu) / CHAINS,
        median(chainsDirectMainCpu) / CHAINS,
      ),
    );
    // The load generator (this process: 300 HTTP starts and the status reads, bench/support/httpLoad)
    // shares the machine's cores with the host; no target. Host and client CPU together per
    // orchestration, over the cores there are, bound the host's rate.
    rows.push(
      cpuRow(
        `${CHAINS} 3-activity chains: the bench client's CPU per orchestration, vs the direct engine's`,
        median(chainsClientCpu) / CHAINS,
        median(chainsDirectCpu) / CHAINS,
      ),
    );
    // Where the host's main thread goes (no target): the same number of HTTP calls to a
    // function that only echoes its JSON body (the start without the durable client and
    // engine), against a whole orchestration on the direct engine.
    const echoMainCpu: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      await withCpu(hostMainThreadCpuMs, echoMainCpu, () => Promise.all(Array.from({ length: CHAINS }, (_, n) => post('/api/echo', n))));
    }
    rows.push(
      cpuRow(
        `${CHAINS} calls of an HTTP function echoing its body: main-thread CPU per call, host vs a direct-engine orchestration`,
        median(echoMainCpu) / CHAINS,
        median(chainsDirectMainCpu) / CHAINS,
      ),
    );
    const fanHostCpu: number[] = [];
    const fan = await paired(
      () =>
        withCpu(hostCpuMs, fanHostCpu, async () => {
          const t0 = performance.now();
          await waitAll([await start('fan', 1000)]);
          return performance.now() - t0;
        }),
      () => baseline(1, 1000, true),
    );
    rows.push({
      name: '1,000-activity fan-out/fan-in, via the host',
      value: round(fan.engine),
      unit: 'ms',
      baseline: round(fan.base),
      ratio: round(fan.engine / fan.base),
    });
    // Speed relative to the direct engine (its time over the host's): >= 0.5x means at most twice as long.
    rows.push({
      name: '1,000-activity fan-out/fan-in, via the host vs the direct engine',
      value: round(fan.engine),
      unit: 'ms',
      baseline: round(fanDirectMs),
      ratio: round(fanDirectMs / fan.engine),
      target: '>= 0.5x the direct engine (speed)',
      ok: fanDirectMs / fan.engine >= 0.5,
    });
    rows.push(cpuRow('1,000-activity fan-out/fan-in: CPU, host vs direct engine', median(fanHostCpu), median(fanDirectCpu)));
  });
  const at100 = perActivity.get(100) ?? NaN;
  const at1000 = perActivity.get(1000) ?? NaN;
  rows.push({ name: 'per-activity cost, 100 fan-out', value: round(at100), unit: 'µs' });
  rows.push({
    name: 'per-activity cost, 1,000 fan-out',
    value: round(at1000),
    unit: 'µs',
    baseline: round(at100),
    ratio: round(at1000 / at100),
    target: '<= 1.5x the 100 fan-out cost (flat)',
    ok: at1000 <= 1.5 * at100,
  });
  return rows;
}

export const durable: BenchModule = { name: 'durable', run };
