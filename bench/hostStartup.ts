import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { median, type BenchModule } from './types';

const repoRoot = resolve(__dirname, '..', '..');
const RUNS = Number(process.env['BENCH_RUNS'] ?? 7);

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer().listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => res(port));
    });
    srv.on('error', rej);
  });
}

function healthOk(port: number): Promise<boolean> {
  return new Promise((res) => {
    const req = get({ host: '127.0.0.1', port, path: '/api/health', agent: false }, (r) => {
      r.resume();
      r.on('end', () => res(r.statusCode === 200));
    });
    req.on('error', () => res(false));
  });
}

/** Milliseconds from spawning `args` to the first 200 on /api/health (polled every ms). */
async function timeToHealthy(args: string[], env: NodeJS.ProcessEnv, port: number): Promise<number> {
  const started = performance.now();
  const child = spawn(process.execPath, args, { env: { ...env, PORT: String(port) }, stdio: 'ignore' });
  let exited = false;
  child.once('exit', () => (exited = true));
  try {
    while (!(await healthOk(port))) {
      if (exited) throw new Error(`${args.join(' ')} exited before answering`);
      if (performance.now() - started > 30_000) throw new Error(`${args.join(' ')} did not answer in 30 s`);
      await new Promise((r) => setTimeout(r, 1));
    }
    return performance.now() - started;
  } finally {
    child.kill('SIGKILL');
    if (!exited) await new Promise((r) => child.once('exit', r));
  }
}

/** Host start (a child process, like `npm start`) to the first 200 on /api/health, against
 * a bare node:http server started the same way. Target (issue #20): at most 3x and under 1 s. */
export const hostStartup: BenchModule = {
  name: 'host-startup',
  async run() {
    const appDir = mkdtempSync(join(tmpdir(), 'lf-bench-app-'));
    writeFileSync(join(appDir, 'package.json'), JSON.stringify({ main: join(repoRoot, 'dist', 'functions', 'index.js') }));
    writeFileSync(join(appDir, 'host.json'), JSON.stringify({ version: '2.0' }));
    const host: number[] = [];
    const bare: number[] = [];
    try {
      // Warm the file cache once so the first measured run is not a disk read.
      const warmData = mkdtempSync(join(tmpdir(), 'lf-bench-data-'));
      await timeToHealthy(
        [join(repoRoot, 'dist', 'src', 'host', 'main.js')],
        { ...process.env, LEDGERFLOW_APP_DIR: appDir, LEDGERFLOW_DATA_DIR: warmData, LOG_LEVEL: 'warn' },
        await freePort(),
      );
      rmSync(warmData, { recursive: true, force: true });
      for (let i = 0; i < RUNS; i++) {
        bare.push(await timeToHealthy([join(__dirname, 'fixtures', 'bareServer.js')], process.env, await freePort()));
        const dataDir = mkdtempSync(join(tmpdir(), 'lf-bench-data-'));
        try {
          host.push(
            await timeToHealthy(
              [join(repoRoot, 'dist', 'src', 'host', 'main.js')],
              { ...process.env, LEDGERFLOW_APP_DIR: appDir, LEDGERFLOW_DATA_DIR: dataDir, LOG_LEVEL: 'warn' },
              await freePort(),
            ),
          );
        } finally {
          rmSync(dataDir, { recursive: true, force: true });
        }
      }
    } finally {
      rmSync(appDir, { recursive: true, force: true });
    }
    const value = median(host);
    const baseline = median(bare);
    const ratio = value / baseline;
    return [
      {
        name: `start to first 200 on /api/health (median of ${RUNS})`,
        value,
        unit: 'ms',
        baseline,
        ratio,
        target: '<= 3x, < 1000 ms',
        ok: ratio <= 3 && value < 1000,
      },
    ];
  },
};
