import { closeSync, mkdtempSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { detectSandbox, sandboxCommand } from '../src/adapters/compute/local/sandbox';
import { startHost } from './support/host';
import { hostCpuMs, processCpuMs, threadCpuMs, treeCpu, withChildren, type TreeCpu } from './support/proc';
import { runQuiet, trivialPlan } from './support/sandboxPlan';
import { HttpLoad } from './support/httpLoad';
import { percentile, type BenchModule, type BenchRow } from './types';

/**
 * Many workflows at once through the whole stack (HTTP, durable engine, ledger, local
 * sandboxed runner): WORKFLOWS 5-job DAGs submitted together. Step latency is the time from
 * the last of a job's inputs ending to the job starting, from the jobs' own times (root
 * jobs have no inputs and are left out); jobs/s is every job over the time from the first
 * submit to the last job's end, against the ceiling of bare bwrap spawns of the
 * same trivial job with every core busy, measured in the same run.
 */
const WORKFLOWS = Number(process.env['BENCH_WORKFLOWS'] ?? 40);
/** A program to run the host under (e.g. a script that execs node with --cpu-prof, which
 * NODE_OPTIONS does not allow), to profile the host during the run. */
const LAUNCHER = process.env['BENCH_HOST_LAUNCHER'];
/** Set: the host's CPU per job by thread (main, V8's platform threads, libuv's pool, workers) on stderr. */
const THREADS = process.env['BENCH_THREADS'] !== undefined;
const TOKEN = 'bench-token';
/** The DAG: 1 fans out to 2 and 3, which join in 4, then 5. */
const INPUTS: Readonly<Record<number, readonly number[]>> = { 1: [], 2: [1], 3: [1], 4: [2, 3], 5: [4] };
const SPEC = `jobs:\n${"  - command: 'true'\n".repeat(5)}dags:\n  - 1 >> 2 >> 4 >> 5\n  - 1 >> 3 >> 4\n`;
const FINISHED = ['Succeeded', 'Failed', 'Canceled'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Job {
  index: number;
  status: string;
  startedAt: string | null;
  endedAt: string | null;
}
interface Run {
  id: string;
  status: string;
  jobs: Job[];
}

/** Sandboxed `true` spawns per second with `cores` running at once: what the cores allow
 * for trivial jobs before any orchestration; and the machine's CPU per spawn, where it can
 * be measured. */
async function bwrapCeiling(spawns: number): Promise<{ perSecond: number; cpuMs: number | undefined } | undefined> {
  if (detectSandbox('bwrap').kind !== 'bwrap') return undefined;
  const root = mkdtempSync(join(tmpdir(), 'lf-bench-ceiling-'));
  try {
    const { file, args, fd3 } = sandboxCommand('bwrap', trivialPlan(root));
    const argsFile = join(root, 'sandbox.args');
    if (fd3 !== undefined) writeFileSync(argsFile, fd3);
    const once = async () => {
      const fd = fd3 === undefined ? undefined : openSync(argsFile, 'r');
      try {
        await runQuiet(file, args, fd);
      } finally {
        if (fd !== undefined) closeSync(fd);
      }
    };
    let next = 0;
    // This process is idle but for the spawns (the host is, too, once its runs are done).
    const tree = treeCpu([process.pid]);
    try {
      const started = performance.now();
      await Promise.all(
        Array.from({ length: availableParallelism() }, async () => {
          while (next++ < spawns) await once();
        }),
      );
      const perSecond = (spawns * 1000) / (performance.now() - started);
      return { perSecond, cpuMs: tree === undefined ? undefined : tree.ms() / spawns };
    } finally {
      await tree?.close();
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

/** CPU ms of each thread of a process so far (node names them all "node": by thread id). */
function threadsCpuMs(pid: number): Map<string, number> {
  return new Map(readdirSync(`/proc/${pid}/task`).map((tid) => [tid, threadCpuMs(pid, Number(tid)) ?? 0]));
}

export const concurrency: BenchModule = {
  name: 'concurrency',
  async run(): Promise<BenchRow[]> {
    const host = await startHost({
      settings: { LEDGERFLOW_TOKENS: JSON.stringify({ [TOKEN]: { user: 'alice', org: 'uis' } }), COMPUTE: 'local', LOG_LEVEL: 'warn' },
      ...(LAUNCHER !== undefined && { launcher: [LAUNCHER] }),
    });
    let tree: TreeCpu | undefined;
    const load = new HttpLoad();
    try {
      const call = async (method: string, path: string, body?: unknown): Promise<Run> => {
        const res = await load.api(host.url, TOKEN, method, path, body);
        if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${res.text}`);
        return res.json<Run>();
      };
      const waitAll = async (ids: readonly string[]): Promise<Run[]> => {
        // One listing every 250 ms while they run (a status read costs the host a few ms of
        // CPU: reading 40 in turn took a quarter of a core from the run measured), then each
        // run once for its jobs' times. Latencies and jobs/s come from those times.
        const wanted = new Set(ids);
        for (;;) {
          const page = (await call('GET', '/workflows?limit=100')) as unknown as { items: Run[] };
          if (page.items.filter((r) => wanted.has(r.id) && FINISHED.includes(r.status)).length === ids.length) break;
          await sleep(250);
        }
        const runs: Run[] = [];
        for (const id of ids) {
          let run = await call('GET', `/workflows/${id}`);
          while (!FINISHED.includes(run.status)) {
            await sleep(50);
            run = await call('GET', `/workflows/${id}`);
          }
          runs.push(run);
        }
        return runs;
      };
      await waitAll([(await call('POST', '/workflows', { workflow: SPEC })).id]); // warm-up

      const started = Date.now();
      const hostPid = host.child.pid as number;
      const cpuBefore = hostCpuMs(hostPid) ?? NaN;
      const mainBefore = threadCpuMs(hostPid, hostPid) ?? NaN;
      const ownBefore = processCpuMs(hostPid) ?? NaN;
      // The host, its spawner helper and whatever they start from now on: supervisors,
      // stages, sandboxes, jobs. What the whole machine spends per job, the bound jobs/s
      // meets on these cores whatever the slots.
      tree = treeCpu(withChildren(hostPid));
      const threadsBefore = threadsCpuMs(hostPid);
      const ids = await Promise.all(Array.from({ length: WORKFLOWS }, async () => (await call('POST', '/workflows', { workflow: SPEC })).id));
      const runs = await waitAll(ids);
      const cpuPerJob = ((hostCpuMs(hostPid) ?? NaN) - cpuBefore) / (WORKFLOWS * 5);
      const mainPerJob = ((threadCpuMs(hostPid, hostPid) ?? NaN) - mainBefore) / (WORKFLOWS * 5);
      const helpersPerJob = cpuPerJob - ((processCpuMs(hostPid) ?? NaN) - ownBefore) / (WORKFLOWS * 5);
      if (THREADS) {
        const perJob = [...threadsCpuMs(hostPid)].map(
          ([tid, ms]) => `${tid === String(hostPid) ? 'main' : tid}=${((ms - (threadsBefore.get(tid) ?? 0)) / (WORKFLOWS * 5)).toFixed(2)}`,
        );
        process.stderr.write(`host CPU ms per job by thread: ${perJob.join(' ')}\n`);
      }
      const treePerJob = tree === undefined ? undefined : tree.ms() / (WORKFLOWS * 5);
      const lastEnd = Math.max(...runs.flatMap((r) => r.jobs.map((j) => Date.parse(j.endedAt ?? ''))));
      const jobsPerSecond = (WORKFLOWS * 5 * 1000) / (lastEnd - started);
      const failed = runs.filter((r) => r.status !== 'Succeeded');
      if (failed.length > 0) throw new Error(`${failed.length} of ${WORKFLOWS} workflows did not succeed: ${JSON.stringify(failed[0])}`);

      const steps: number[] = [];
      for (const run of runs) {
        const at = new Map(run.jobs.map((j) => [j.index, j]));
        for (const [index, inputs] of Object.entries(INPUTS)) {
          if (inputs.length === 0) continue;
          const inputsDone = Math.max(...inputs.map((i) => Date.parse(at.get(i)?.endedAt ?? '')));
          steps.push(Date.parse(at.get(Number(index))?.startedAt ?? '') - inputsDone);
        }
      }
      if (steps.some((s) => !Number.isFinite(s))) throw new Error('a job has no start or end time');
      const p50 = percentile(steps, 50);
      const p95 = percentile(steps, 95);
      const bare = await bwrapCeiling(WORKFLOWS * 5);
      const ceiling = bare?.perSecond;
      const label = `${WORKFLOWS} x 5-job DAGs at once`;
      return [
        { name: `${label}: step latency p50`, value: p50, unit: 'ms' },
        // CPU, unlike latency, does not depend on what else shares the machine. The host's
        // helper processes count (support/proc.ts hostCpuMs); the jobs' own processes do not.
        { name: `${label}: host CPU per job (all threads)`, value: cpuPerJob, unit: 'ms' },
        // The thread every orchestration episode, HTTP request and job report waits for.
        { name: `${label}: host main thread CPU per job`, value: mainPerJob, unit: 'ms' },
        // Of the host's CPU, its helper processes' (the local runner's supervisor spawner).
        { name: `${label}: host helper processes CPU per job`, value: helpersPerJob, unit: 'ms' },
        ...(treePerJob === undefined
          ? []
          : [
              {
                name: `${label}: machine CPU per job (host and all it starts)`,
                value: treePerJob,
                unit: 'ms',
                ...(bare?.cpuMs !== undefined && { baseline: bare.cpuMs, ratio: treePerJob / bare.cpuMs }),
              },
              // jobs/s the cores allow at that CPU per job, were nothing else running.
              { name: `${label}: CPU-bound jobs/s on ${availableParallelism()} cores`, value: (availableParallelism() * 1000) / treePerJob, unit: 'jobs/s' },
            ]),
        { name: `${label}: step latency p95`, value: p95, unit: 'ms', target: '<= 250 ms', ok: p95 <= 250 },
        {
          name: `${label}: jobs/s`,
          value: jobsPerSecond,
          unit: 'jobs/s',
          ...(ceiling === undefined
            ? {}
            : {
                baseline: ceiling,
                ratio: jobsPerSecond / ceiling,
                target: `>= 0.5x bwrap spawns/s on ${availableParallelism()} cores`,
                ok: jobsPerSecond >= 0.5 * ceiling,
              }),
        },
      ];
    } finally {
      load.close();
      if (LAUNCHER !== undefined) await host.stop();
      await host.kill();
      await tree?.close();
    }
  },
};
