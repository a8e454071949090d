import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../bench/support/host';
import { backupManifestSchema, BACKUP_MANIFEST } from '../../../src/core/backup';
import { verifyLedger } from '../../../src/ledger-peer/verify';
import { runCli } from '../../helpers/cli';
import { DatasetsApi, TOKENS } from '../datasets/client';

/**
 * `ledgerflow admin backup` against a running host with runs in flight (issue 24): the copy
 * restores (a host started on it) to a state in which every run reaches a terminal state,
 * the one interrupted says so, the ledger verifies, and durable state, ledger and run
 * folders agree.
 */
const FINISHED = new Set(['Succeeded', 'Failed', 'Canceled', 'Rejected']);
const settings = { COMPUTE: 'local', WORKFLOW_STATUS_POLL_SECONDS: '1', LEASE_EXPIRY_SCHEDULE: '0 0 0 1 1 *', WORKFLOW_RETENTION: '0' };
const backupDir = join(mkdtempSync(join(tmpdir(), 'lf-backup-')), 'copy');
const apis: DatasetsApi[] = [];
after(async () => {
  for (const api of apis) await api.host.kill();
  rmSync(join(backupDir, '..'), { recursive: true, force: true });
});

async function submit(api: DatasetsApi, workflow: string): Promise<string> {
  const r = await api.call('alice', 'POST', '/workflows', { workflow });
  assert.equal(r.status, 202, r.text);
  return String(r.body.id);
}

const statusOf = async (api: DatasetsApi, id: string) => (await api.call('alice', 'GET', `/workflows/${id}`)).body;
const ended = (api: DatasetsApi, id: string, within = 60_000) =>
  eventually(
    async () => {
      const view = await statusOf(api, id);
      return FINISHED.has(view?.status) ? view : undefined;
    },
    within,
    `run ${id} to end`,
  );

test('a backup taken while runs are in flight restores to a host on which every run ends, the ledger verifies, and the stores agree', async () => {
  const original = await DatasetsApi.start(settings);
  apis.push(original);
  const dataset = await original.call('alice', 'POST', '/datasets', { name: 'backed-up', files: { 'x.txt': 'lorem ipsum' } });
  assert.equal(dataset.status, 201, dataset.text);
  const datasetId = String(dataset.body.id);
  assert.equal((await original.call('alice', 'POST', `/datasets/${datasetId}/lease`, { ttlSeconds: 3600 })).status, 201);
  const volume = `    volumes:\n      - {id: '${datasetId}', name: d, path: /data/d}\n`;

  const done = await submit(original, `jobs:\n  - command: 'cat /data/d/x.txt > out.txt'\n${volume}`);
  assert.equal((await ended(original, done)).status, 'Succeeded');
  const long = await submit(original, `jobs:\n  - command: 'echo started; sleep 600'\n${volume}`);
  await eventually(async () => ((await statusOf(original, long)).jobs[0].status === 'Running' ? true : undefined), 60_000, 'the long job to run');
  const chain = await submit(
    original,
    `jobs:\n  - command: 'echo one > out.txt'\n${volume}  - command: 'cat out.txt'\n  - command: 'cat out.txt'\ndags:\n  - 1 >> 2 >> 3\n`,
  );

  // Only the operator: an application token, or none, is refused.
  const asUser = await fetch(`${original.host.url}/admin/backup`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKENS.alice}` },
    body: JSON.stringify({ dir: backupDir }),
  });
  assert.equal(asUser.status, 401);
  const inside = await runCli([
    '--json',
    '--endpoint',
    `${original.host.url}/api`,
    'admin',
    'backup',
    join(original.host.dataDir, 'copy'),
    '--data-dir',
    original.host.dataDir,
  ]);
  assert.equal(inside.code, 2, `a backup inside the data dir is refused: ${inside.stderr}`);

  const taken = await runCli(['--json', '--endpoint', `${original.host.url}/api`, 'admin', 'backup', backupDir, '--data-dir', original.host.dataDir]);
  assert.equal(taken.code, 0, taken.stderr);
  const summary = taken.json();
  assert.ok(summary.ledgerHeight > 0);
  assert.ok(
    ['durable/durable.db', 'queues.sqlite', 'run-index.sqlite', 'ledger/ledger.sqlite'].every((db) => summary.databases.includes(db)),
    summary.databases.join(),
  );
  assert.equal((await statusOf(original, chain)).id, chain, 'the host runs on after the backup');

  // The manifest: versions, ledger height, a checksum per file that matches the copy.
  const manifest = backupManifestSchema.parse(JSON.parse(readFileSync(join(backupDir, BACKUP_MANIFEST), 'utf8')));
  assert.equal(manifest.ledgerHeight, summary.ledgerHeight);
  assert.ok(manifest.hostVersion.length > 0 && manifest.node.startsWith('v') && manifest.sqlite.length > 0);
  for (const f of manifest.files)
    assert.equal(
      createHash('sha256')
        .update(readFileSync(join(backupDir, f.path)))
        .digest('hex'),
      f.sha256,
      f.path,
    );
  assert.ok(!manifest.files.some((f) => /-(wal|shm)$|host\.lock/.test(f.path)), 'no WAL, shared memory or lock file in the copy');
  assert.ok(
    manifest.files.some((f) => f.path.startsWith('keystore/')),
    'the key store is in the backup',
  );
  assert.ok(verifyLedger(backupDir).ok, 'the copied ledger verifies');

  // The original's long job would outlive its host: stop it there.
  assert.equal((await original.call('alice', 'POST', `/workflows/${long}/cancel`)).status, 202);
  await ended(original, long);
  await original.host.kill();

  // Restore: a host started on the copy.
  const restored = await DatasetsApi.start(settings, { dataDir: backupDir });
  apis.push(restored);
  assert.equal((await ended(restored, done)).status, 'Succeeded');
  const interrupted = await ended(restored, long);
  assert.equal(interrupted.status, 'Failed');
  assert.match(interrupted.jobs[0].message ?? '', /interrupted by a restore/);
  assert.ok(FINISHED.has((await ended(restored, chain, 120_000)).status));
  const listed = (await restored.call('alice', 'GET', '/workflows?limit=100')).body.items as { id: string; status: string }[];
  assert.deepEqual(listed.map((v) => v.id).sort(), [done, long, chain].sort(), 'the index agrees with the durable state');
  assert.ok(
    listed.every((v) => FINISHED.has(v.status)),
    'no run stays Running',
  );

  // The ledger, the durable state and the run folders agree.
  for (const id of [done, long, chain]) {
    assert.ok(existsSync(join(backupDir, 'runs', id)), `run folder of ${id}`);
    const history = (await restored.call('alice', 'GET', `/datasets/${datasetId}/history`)).body.items as { action: string; value?: { workflowId?: string } }[];
    const actions = history.filter((e) => e.value?.workflowId === id).map((e) => e.action);
    await eventually(
      async () => {
        const h = (await restored.call('alice', 'GET', `/datasets/${datasetId}/history`)).body.items as { action: string; value?: { workflowId?: string } }[];
        return h.some((e) => e.value?.workflowId === id && e.action === 'workflow-cleaned-up') ? true : undefined;
      },
      60_000,
      `cleanup of ${id} on the ledger (had ${actions.join(', ')})`,
    );
  }
  await restored.host.stop();
  const verified = verifyLedger(backupDir);
  assert.ok(verified.ok, `ledger verify after the restore: ${verified.problem ?? ''}`);
});
