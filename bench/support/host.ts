import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { settingsSchema } from '../../src/config/settings';

/**
 * Runs the embedded host as a separate process, the way `npm start` does, for integration
 * tests: a temp app dir (package.json pointing at the app's compiled entry, host.json,
 * local.settings.json), a temp data dir, a free port. Waits for the ready line, captures
 * stdout/stderr, and cleans up (also when a test forgets: on process exit).
 *
 *   const host = await startHost({ entry: fixtureApp('basic'), settings: { X: '1' } });
 *   after(() => host.kill());
 *   const res = await fetch(`${host.url}/api/health`);
 */

/** The repository root (this file runs from dist/test/helpers). */
export const repoRoot = resolve(__dirname, '..', '..', '..');
/** The compiled entry of a test app in test/fixtures/apps/<name>. */
export const fixtureApp = (name: string): string => join(repoRoot, 'dist', 'test', 'fixtures', 'apps', name, 'index.js');
/** The ledgerflow app itself (package.json `main`). */
export const ledgerflowApp = (): string => join(repoRoot, 'dist', 'functions', 'index.js');

/** The repository's host.json for the ledgerflow app. Its routePrefix is "" (the app's API
 * functions carry `api/` themselves, src/api/routes.ts); the fixture apps are written for
 * Azure's default prefix `api`, so they get that back. */
function defaultHostJson(entry: string): object {
  const repo = JSON.parse(readFileSync(join(repoRoot, 'host.json'), 'utf8')) as { extensions?: Record<string, unknown> };
  if (entry === ledgerflowApp()) return repo;
  return { ...repo, extensions: { ...repo.extensions, http: { routePrefix: 'api' } } };
}

export interface StartHostOptions {
  /** Absolute path of the compiled app entry; default the ledgerflow app. */
  readonly entry?: string;
  /**
   * A ready-made app directory (its own package.json and host.json, as published apps
   * have) to run instead of a generated one; `entry` and `hostJson` are then ignored.
   */
  readonly appDir?: string;
  /** host.json contents; default the repository's host.json. */
  readonly hostJson?: object;
  /** Written as local.settings.json `Values` (the host applies them unless env sets them). */
  readonly settings?: Readonly<Record<string, string>>;
  /** Extra environment for the host process (wins over settings). */
  readonly env?: Readonly<Record<string, string>>;
  /** Reuse a data dir (e.g. to restart a host); by default a fresh one is made and removed. */
  readonly dataDir?: string;
  /** How long to wait for the ready line (default 30 s: CI machines are slow and shared). */
  readonly readyTimeoutMs?: number;
  /** A command that runs the host as its argument list (e.g. under a parent that never reaps
   * it); the TestHost's child is then the launcher, not the host. */
  readonly launcher?: readonly string[];
}

export interface TestHost {
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  readonly appDir: string;
  readonly child: ChildProcess;
  /** Everything the host wrote to stdout so far. */
  stdout(): string;
  stderr(): string;
  /** Parsed JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** Resolves with the first log line matching, waiting up to `timeoutMs`. */
  waitForLog(match: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
  /** Sends a signal (default SIGTERM) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  /** SIGKILL, then removes temp dirs. Idempotent; use in `after`. */
  kill(): Promise<void>;
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

interface Spawned {
  readonly child: ChildProcess;
  readonly appDir: string;
  readonly dataDir: string;
  readonly out: { stdout: string; stderr: string };
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  cleanup(): void;
}

const live = new Set<Spawned>();
process.on('exit', () => {
  for (const s of live) {
    s.child.kill('SIGKILL');
    s.cleanup();
  }
});

/** A clean environment: the test runner's own settings must not leak into the host. */
function baseEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const key of Object.keys(settingsSchema.shape)) delete env[key];
  delete env['LEDGERFLOW_APP_DIR'];
  return env;
}

function spawnHost(options: StartHostOptions): Spawned {
  const ownAppDir = options.appDir === undefined;
  const appDir = options.appDir ?? mkdtempSync(join(tmpdir(), 'lf-app-'));
  const ownDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'lf-data-'));
  if (ownAppDir) {
    writeFileSync(join(appDir, 'package.json'), JSON.stringify({ name: 'test-app', private: true, main: options.entry ?? ledgerflowApp() }));
    const hostJson = options.hostJson ?? defaultHostJson(options.entry ?? ledgerflowApp());
    writeFileSync(join(appDir, 'host.json'), JSON.stringify(hostJson));
  }
  if (options.settings && ownAppDir) {
    writeFileSync(join(appDir, 'local.settings.json'), JSON.stringify({ IsEncrypted: false, Values: options.settings }));
  }
  const argv = [...(options.launcher ?? []), process.execPath, join(repoRoot, 'dist', 'src', 'host', 'main.js')];
  // Tests wait for debug lines, so debug is the default; env wins over local.settings.json,
  // so a LOG_LEVEL the caller sets there (the bench's `warn`) has to reach the env to count.
  const child = spawn(argv[0] as string, argv.slice(1), {
    cwd: appDir,
    env: {
      ...baseEnv(),
      PORT: '0',
      LEDGERFLOW_DATA_DIR: dataDir,
      LEDGERFLOW_APP_DIR: appDir,
      LOG_LEVEL: options.settings?.['LOG_LEVEL'] ?? 'debug',
      ...options.env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const out = { stdout: '', stderr: '' };
  child.stdout?.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((res) =>
    child.once('exit', (code, signal) => {
      // Let the pipes drain so the last lines are in `out`.
      setImmediate(() => res({ code, signal }));
    }),
  );
  let cleaned = false;
  const spawned: Spawned = {
    child,
    appDir,
    dataDir,
    out,
    exited,
    cleanup() {
      if (cleaned) return;
      cleaned = true;
      live.delete(spawned);
      if (ownAppDir) rmSync(appDir, { recursive: true, force: true });
      if (ownDataDir) {
        // A job's supervisor is detached so that it outlives a killed host (that is the
        // product's crash safety); here it would keep writing into the dir being removed
        // (ENOTEMPTY), so it goes first.
        killProcessesUnder(dataDir);
        rmSync(dataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
      }
    },
  };
  live.add(spawned);
  return spawned;
}

function parseLogs(stdout: string): Record<string, unknown>[] {
  return stdout.split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as Record<string, unknown>];
    } catch {
      return [];
    }
  });
}

export async function startHost(options: StartHostOptions = {}): Promise<TestHost> {
  const s = spawnHost(options);
  const timeoutMs = options.readyTimeoutMs ?? 30_000;
  const url = await new Promise<string>((resolveUrl, reject) => {
    const timer = setTimeout(() => fail(new Error(`host not ready after ${timeoutMs} ms`)), timeoutMs);
    const onData = () => {
      const m = /ledgerflow host ready at (http:\/\/\S+)/.exec(s.out.stdout);
      if (m) {
        clearTimeout(timer);
        s.child.stdout?.off('data', onData);
        resolveUrl(m[1] as string);
      }
    };
    function fail(err: Error) {
      clearTimeout(timer);
      s.child.kill('SIGKILL');
      s.cleanup();
      reject(new Error(`${err.message}\n--- stderr ---\n${s.out.stderr}\n--- stdout ---\n${s.out.stdout}`));
    }
    s.child.stdout?.on('data', onData);
    void s.exited.then(({ code, signal }) => fail(new Error(`host exited (code ${code}, signal ${signal}) before it was ready`)));
  });

  const logs = () => parseLogs(s.out.stdout);
  return {
    url,
    port: Number(new URL(url).port),
    dataDir: s.dataDir,
    appDir: s.appDir,
    child: s.child,
    stdout: () => s.out.stdout,
    stderr: () => s.out.stderr,
    logs,
    async waitForLog(match, waitMs = 20_000) {
      const deadline = Date.now() + waitMs;
      for (;;) {
        const hit = logs().find(match);
        if (hit) return hit;
        if (Date.now() > deadline) throw new Error(`no matching log line after ${waitMs} ms\n${s.out.stdout}`);
        await new Promise((r) => setTimeout(r, 25));
      }
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill(signal);
      const { code } = await s.exited;
      s.cleanup();
      return code;
    },
    async kill() {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
      await s.exited;
      s.cleanup();
    },
    exited: s.exited,
  };
}

/** SIGKILLs every live process whose command line names a path under `dir` (a job's supervisor
 * names its job dir), with its process group (the supervisor leads its own, with the sandbox in it). */
function killProcessesUnder(dir: string): void {
  const prefix = `${dir}/`;
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (!cmdline.split('\0').some((arg) => arg.startsWith(prefix))) continue;
      for (const target of [-pid, pid]) {
        try {
          process.kill(target, 'SIGKILL');
        } catch {
          // not a group leader, or gone
        }
      }
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
}

/** Runs a host that is expected to fail at start; resolves with its exit code and output. */
export async function runHostToExit(options: StartHostOptions = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const s = spawnHost(options);
  const timer = setTimeout(() => s.child.kill('SIGKILL'), options.readyTimeoutMs ?? 30_000);
  const { code } = await s.exited;
  clearTimeout(timer);
  s.cleanup();
  return { code, stdout: s.out.stdout, stderr: s.out.stderr };
}

/** Polls `read` until it returns a value that is not undefined (tests wait on effects, not on time). */
export async function eventually<T>(read: () => T | undefined | Promise<T | undefined>, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Lines of a JSONL file written by a fixture app ([] while it does not exist). */
export function readJsonLines(file: string): Record<string, unknown>[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  return text
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}
