import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, runHostToExit } from '../../bench/support/host';
import { DatasetsApi } from '../integration/datasets/client';
import { runCli } from '../helpers/cli';

/**
 * kill -9 of the host, then a restart on the same data dir at once, five times. The host
 * runs under a parent that never reaps it (as a container runtime or a slow supervisor may
 * leave it), so the dead host stays a zombie with its pid alive in /proc while the new one
 * starts: a lock that asks whether the old pid lives refuses the restart; the kernel's lock
 * (released as the process dies) does not.
 */
const dataDir = mkdtempSync(join(tmpdir(), 'lf-fault-restart-'));
const hostPids: number[] = [];
const apis: DatasetsApi[] = [];
after(async () => {
  for (const pid of hostPids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const api of apis) await api.host.kill();
  rmSync(dataDir, { recursive: true, force: true });
});

/** `sh` starts the host in the background, then becomes `sleep`, which never waits for it. */
const NON_REAPING = ['/bin/sh', '-c', '"$@" & exec sleep 3600', 'sh'];

function processState(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  } catch {
    return undefined; // reaped
  }
}

async function boot(launcher: readonly string[] = NON_REAPING): Promise<{ api: DatasetsApi; pid: number }> {
  const api = await DatasetsApi.start({}, { dataDir, launcher });
  apis.push(api);
  const line = await api.host.waitForLog((l) => typeof l['pid'] === 'number');
  const pid = line['pid'] as number;
  hostPids.push(pid);
  return { api, pid };
}

test('a host killed with -9 is replaced at once, 5 times, while the dead one is still a zombie', async () => {
  let { api, pid } = await boot();
  const first = await api.call('alice', 'POST', '/datasets', { name: 'survives-restarts', files: { 'a.txt': 'a' } });
  assert.equal(first.status, 201, first.text);
  for (let round = 1; round <= 5; round++) {
    process.kill(pid, 'SIGKILL');
    // The dead host is a zombie: its pid still answers kill(pid, 0).
    await eventually(() => (processState(pid) === 'Z' ? true : undefined), 10_000, `host ${pid} to become a zombie`);
    ({ api, pid } = await boot());
    const health = await api.call(null, 'GET', '/health');
    assert.equal(health.status, 200, `round ${round}: ${health.text}`);
    const read = await api.call('alice', 'GET', `/datasets/${first.body.id as string}`);
    assert.equal(read.status, 200, `round ${round}: ${read.text}`);
  }
  process.kill(pid, 'SIGKILL');
  // Five crashes left a sound ledger: `ledgerflow ledger verify` checks the chain and state.
  const verify = await runCli(['ledger', 'verify', '--data-dir', dataDir, '--json']);
  assert.equal(verify.code, 0, verify.stdout + verify.stderr);
  assert.equal(JSON.parse(verify.stdout).ok, true);
  const broken = await runCli(['ledger', 'verify', '--data-dir', join(dataDir, 'nothing-here')]);
  assert.equal(broken.code, 1);
  assert.match(broken.stdout, /no ledger at/);
});

test("a second host on a live host's data dir is still refused, naming the holder", async () => {
  const { api, pid } = await boot([]);
  const { code, stderr } = await runHostToExit({ dataDir: api.host.dataDir });
  assert.equal(code, 1);
  assert.match(stderr, new RegExp(`in use by another host \\(pid ${pid}\\)`));
});
