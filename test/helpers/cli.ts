import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { repoRoot } from '../../bench/support/host';

/**
 * Runs the `ledgerflow` CLI (bin/ledgerflow.js, as a user would) in a subprocess with a
 * clean environment: no LEDGERFLOW_* of the test runner, a config file path of the test's
 * choosing, stdout not a TTY.
 */
export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
  /** stdout parsed as JSON (throws with the output when it is not). */
  json(): any; // eslint-disable-line @typescript-eslint/no-explicit-any -- parsed JSON under test
}

export interface CliOptions {
  /** Written to the CLI's stdin (else it is empty). */
  readonly input?: string;
  readonly cwd?: string;
}

export function runCli(args: readonly string[], env: Readonly<Record<string, string>> = {}, timeoutMs = 60_000, options: CliOptions = {}): Promise<CliResult> {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('LEDGERFLOW_'))) as Record<string, string>;
  const child = spawn(process.execPath, [join(repoRoot, 'bin', 'ledgerflow.js'), ...args], {
    env: { ...base, ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });
  child.stdin.end(options.input ?? '');
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({
        code,
        stdout,
        stderr,
        json() {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`stdout is not JSON (exit ${code}):\n${stdout}\n--- stderr ---\n${stderr}`);
          }
        },
      });
    });
  });
}
