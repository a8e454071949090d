import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalComputeBackend } from '../src/adapters/compute/local/localCompute';
import { detectSandbox, sandboxCommand, type SandboxKind } from '../src/adapters/compute/local/sandbox';
import type { JobLaunch } from '../src/ports/compute';
import { runQuiet as run, trivialPlan } from './support/sandboxPlan';
import { median, type BenchModule, type BenchRow } from './types';

const JOBS = Number(process.env['BENCH_SANDBOX_JOBS'] ?? 20);
const ROUNDS = Number(process.env['BENCH_RUNS'] ?? 5);

/** Milliseconds per job for `JOBS` sequential runs of `once`. */
async function perJob(once: () => Promise<void>): Promise<number> {
  const started = performance.now();
  for (let i = 0; i < JOBS; i++) await once();
  return (performance.now() - started) / JOBS;
}

/**
 * Per-job cost of the local sandbox: `sh -c true` spawned bare (baseline), the same inside
 * the sandbox spawned directly, and a full backend job (launch, detached supervisor,
 * sandbox, exit record, completion callback received over HTTP). Rounds alternate and
 * report medians, as the disk and CPU are shared.
 */
export const sandbox: BenchModule = {
  name: 'sandbox',
  async run() {
    const kinds = (['bwrap', 'unshare'] as const).filter((k) => detectSandbox(k).kind === k);
    const root = mkdtempSync(join(tmpdir(), 'lf-bench-sandbox-'));
    const plan = trivialPlan(root);

    let arrived: (() => void) | undefined;
    const server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        res.writeHead(204).end();
        arrived?.();
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const callbackUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/callback`;

    const bare: number[] = [];
    const direct = new Map<SandboxKind, number[]>(kinds.map((k) => [k, []]));
    const backendRuns = new Map<SandboxKind, number[]>(kinds.map((k) => [k, []]));
    try {
      for (let round = 0; round < ROUNDS; round++) {
        bare.push(await perJob(() => run('/bin/sh', ['-c', 'true'])));
        for (const kind of kinds) {
          const { file, args, fd3 } = sandboxCommand(kind, plan);
          const argsFile = join(root, 'sandbox.args');
          if (fd3 !== undefined) writeFileSync(argsFile, fd3);
          direct.get(kind)!.push(
            await perJob(async () => {
              // As the supervisor does: open the options file for each run.
              const fd = fd3 === undefined ? undefined : openSync(argsFile, 'r');
              try {
                await run(file, args, fd);
              } finally {
                if (fd !== undefined) closeSync(fd);
              }
            }),
          );
          const backend = new LocalComputeBackend({ dataDir: join(root, `data-${kind}-${round}`), sandbox: kind });
          const workflowId = `bench-${round}`;
          await backend.prepareWorkspace(workflowId, {});
          let n = 0;
          backendRuns.get(kind)!.push(
            await perJob(async () => {
              const job: JobLaunch = {
                workflowId,
                jobName: `job-${++n}`,
                jobIndex: n,
                attempt: 1,
                command: 'true',
                image: '',
                env: {},
                volumes: [],
                resources: {},
                timeoutSeconds: 60,
                callback: { url: callbackUrl, token: 'bench' },
              };
              const done = new Promise<void>((ok) => (arrived = ok));
              await backend.launch(job, []);
              await done;
            }),
          );
          await backend.purge(workflowId);
        }
      }
    } finally {
      server.close();
      rmSync(root, { recursive: true, force: true });
    }
    const baseline = median(bare);
    const rows: BenchRow[] = [{ name: 'bare sh -c true, per job', value: baseline, unit: 'ms' }];
    for (const kind of kinds) {
      const value = median(direct.get(kind)!);
      rows.push({ name: `${kind} sandbox spawn, per job`, value, unit: 'ms', baseline, ratio: value / baseline });
      const full = median(backendRuns.get(kind)!);
      rows.push({ name: `${kind} backend job (launch to callback)`, value: full, unit: 'ms', baseline: value, ratio: full / value });
    }
    return rows;
  },
};
