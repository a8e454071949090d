import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { loadWorkflow, placeholderDatasetId } from '../../../src/cli/workflowFile';
import { isDatasetId } from '../../../src/core/names';
import { CliError } from '../../../src/cli/exitCodes';
import { repoRoot } from '../../../bench/support/host';

const parallel = join(repoRoot, 'examples', 'thesis', 'parallel', 'workflow.yaml');

test('the parallel example: commands, volumes, ids filled in by name with comments kept', () => {
  const w = loadWorkflow(parallel, { uis: 'a'.repeat(32), uio: 'b'.repeat(32), uib: 'c'.repeat(32) });
  assert.deepEqual(w.commands, ['ls /home/jovyan/', 'python uis.py', 'python uio.py', 'python uib.py', 'python final-result.py']);
  assert.deepEqual(
    w.volumes.map((v) => [v.job, v.name, v.id]),
    [
      [2, 'uis', 'a'.repeat(32)],
      [3, 'uio', 'b'.repeat(32)],
      [4, 'uib', 'c'.repeat(32)],
    ],
  );
  assert.match(w.text, /^# Listing 5\.2/);
  const doc = parse(w.text) as { jobs: { volumes?: { id: string }[] }[]; dags: string[] };
  assert.equal(doc.jobs[1]?.volumes?.[0]?.id, 'a'.repeat(32));
  assert.equal(doc.dags.length, 6);
});

test('missing ids, unknown names, bad YAML: usage errors that say what to do', () => {
  assert.throws(
    () => loadWorkflow(parallel, { uis: 'x' }),
    (e: CliError) => e.exitCode === 2 && /volume "uio" of job 3 has no dataset id/.test(e.message) && /--dataset/.test(e.message),
  );
  assert.throws(
    () => loadWorkflow(parallel, { uis: 'x', uio: 'y', uib: 'z', hospital: 'w' }),
    (e: CliError) => /--dataset hospital: no volume/.test(e.message),
  );
  const dir = mkdtempSync(join(tmpdir(), 'lf-wf-'));
  try {
    writeFileSync(join(dir, 'bad.yaml'), 'jobs: [\n');
    assert.throws(
      () => loadWorkflow(join(dir, 'bad.yaml')),
      (e: CliError) => e.exitCode === 2 && /not valid YAML/.test(e.message),
    );
    writeFileSync(
      join(dir, 'thesis.yaml'),
      "jobs:\n- bash hello.sh world\n- command: 'ls'\n  volumes:\n    - id: '6\n        de22e8 '\n      name: 'uis'\n      path: '/home/jovyan/uis'\n",
    );
    const w = loadWorkflow(join(dir, 'thesis.yaml'));
    assert.deepEqual(w.commands, ['bash hello.sh world', 'ls']);
    assert.equal(w.volumes[0]?.id, '6de22e8'); // a PDF-broken id, whitespace removed as the server does
    assert.equal(
      w.text,
      "jobs:\n- bash hello.sh world\n- command: 'ls'\n  volumes:\n    - id: '6\n        de22e8 '\n      name: 'uis'\n      path: '/home/jovyan/uis'\n",
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('placeholder ids for previews: a well-formed id per volume name where the YAML has none', () => {
  const given = 'ab'.repeat(16);
  const w = loadWorkflow(parallel, { uio: given }, { placeholderIds: true });
  assert.deepEqual(
    w.volumes.map((v) => v.id),
    [placeholderDatasetId('uis'), given, placeholderDatasetId('uib')],
  );
  assert.notEqual(placeholderDatasetId('uis'), placeholderDatasetId('uib'));
  for (const v of w.volumes) assert.ok(isDatasetId(v.id), v.id);
});
