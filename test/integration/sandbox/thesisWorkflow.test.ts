import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually } from '../../../bench/support/host';
import { LocalComputeBackend } from '../../../src/adapters/compute/local/localCompute';
import { JobGraph } from '../../../src/core/workflow/dag';
import { datasetIdsOf, parseWorkflowSpec } from '../../../src/core/workflow/spec';
import type { JobObservation, ResolvedVolume } from '../../../src/ports/compute';

const fixtures = join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'thesis');

/** Runs a parsed spec's jobs one at a time in topological order, as the orchestrator
 * would with no parallelism, and returns each job's outcome. */
async function runSpec(source: string, datasets: Record<string, string>, files: Record<string, string>) {
  const root = mkdtempSync(join(tmpdir(), 'lf-thesis-'));
  const backend = new LocalComputeBackend({ dataDir: root });
  const spec = parseWorkflowSpec(source);
  const workflowId = 'thesis';
  await backend.prepareWorkspace(workflowId, files);
  const outcomes: JobObservation[] = [];
  for (const index of JobGraph.of(spec).topologicalOrder()) {
    const job = spec.jobs[index - 1]!;
    const mounts = job.volumes.map((v) => ({ datasetId: v.id, name: v.name, mountPath: v.path }));
    const resolved: ResolvedVolume[] = mounts.map((m) => ({ ...m, location: { kind: 'local', path: datasets[m.datasetId]! } }));
    const handle = await backend.launch(
      {
        workflowId,
        jobName: job.name,
        jobIndex: job.index,
        attempt: 1,
        command: job.command,
        image: job.image ?? '',
        env: job.env,
        volumes: mounts,
        resources: job.resources,
        timeoutSeconds: job.timeoutSeconds ?? 60,
        callback: { url: 'http://127.0.0.1:9/unused', token: 'unused' },
      },
      resolved,
    );
    const observation = await eventually(
      async () => {
        const o = await backend.status(handle);
        return o.phase === 'Running' || o.phase === 'Pending' ? undefined : o;
      },
      120_000,
      `job ${handle.ref} to end`,
    );
    outcomes.push({ ...observation, message: await backend.logs(handle) });
  }
  const result = await backend.readWorkspaceFile(workflowId, 'result.txt');
  await backend.purge(workflowId);
  rmSync(root, { recursive: true, force: true });
  return { spec, outcomes, result: result === undefined ? undefined : String(result) };
}

test('thesis listing 5.1 runs: two local datasets listed into result.txt', async () => {
  const source = readFileSync(join(fixtures, 'listing-5.1-linear-local.yaml'), 'utf8');
  const [uis, uio] = datasetIdsOf(parseWorkflowSpec(source));
  const data = mkdtempSync(join(tmpdir(), 'lf-thesis-data-'));
  mkdirSync(join(data, 'uis'));
  mkdirSync(join(data, 'uio'));
  writeFileSync(join(data, 'uis', 'lorem-uis.txt'), 'lorem\n');
  writeFileSync(join(data, 'uio', 'lorem-uio.txt'), 'lorem lorem\n');
  try {
    const { outcomes, result } = await runSpec(source, { [uis!]: join(data, 'uis'), [uio!]: join(data, 'uio') }, {});
    assert.deepEqual(
      outcomes.map((o) => o.exitCode),
      [0, 0, 0],
    );
    assert.equal(result, 'lorem-uis.txt\nlorem-uio.txt\n');
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});

test('thesis-style python job counts lorem in its dataset', { skip: !existsSync('/usr/bin/python3') && 'no python3 on this machine' }, async () => {
  const data = mkdtempSync(join(tmpdir(), 'lf-thesis-data-'));
  chmodSync(data, 0o755); // an owner's directory must be readable by the job user
  writeFileSync(join(data, 'a.txt'), 'lorem ipsum lorem\n');
  const id = 'd1'.repeat(16);
  const source = `jobs:\n- command: 'python uis.py'\n  volumes:\n    - {id: '${id}', name: 'uis', path: '/home/jovyan/uis'}\n`;
  const code = [
    'import os',
    'n = sum(open(os.path.join(r, f)).read().count("lorem") for r, _, fs in os.walk("/home/jovyan/uis") for f in fs)',
    'open("result.txt", "w").write(str(n))',
  ].join('\n');
  try {
    const { outcomes, result } = await runSpec(source, { [id]: data }, { 'uis.py': code });
    assert.equal(outcomes[0]!.exitCode, 0, outcomes[0]!.message);
    assert.equal(result, '2');
  } finally {
    rmSync(data, { recursive: true, force: true });
  }
});
