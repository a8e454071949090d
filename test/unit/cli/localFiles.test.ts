import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { commandWords, readDirectory, workflowFiles } from '../../../src/cli/localFiles';
import { CliError } from '../../../src/cli/exitCodes';

function tree(files: Record<string, string | Buffer>): string {
  const dir = mkdtempSync(join(tmpdir(), 'lf-files-'));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}

test('commandWords: the words of a command that could name a file', () => {
  assert.deepEqual(commandWords('python uis.py'), ['python', 'uis.py']);
  assert.deepEqual(commandWords('ls /home/jovyan/uis > result.txt'), ['ls', 'result.txt']);
  assert.deepEqual(commandWords("sh ./run.sh --fast 'a b.txt';cat x|wc -l"), ['sh', 'run.sh', 'a', 'b.txt', 'cat', 'x', 'wc']);
  assert.deepEqual(commandWords('cat ../secret'), ['cat']);
});

test('workflowFiles: files the commands name, plus --include; never the yaml, nothing outside', () => {
  const dir = tree({ 'workflow.yaml': 'jobs: []', 'uis.py': 'print(1)\n', 'lib/util.py': 'x = 1\n', 'data.csv': 'a,b\n', 'other.py': '' });
  try {
    const files = workflowFiles(dir, ['python uis.py', 'ls /home/jovyan', 'cat workflow.yaml', 'python missing.py'], join(dir, 'workflow.yaml'), {
      include: ['lib/util.py'],
    });
    assert.deepEqual(files, { 'uis.py': 'print(1)\n', 'lib/util.py': 'x = 1\n' });
    assert.throws(
      () => workflowFiles(dir, [], join(dir, 'workflow.yaml'), { include: ['nope.py'] }),
      (e: CliError) => e.exitCode === 2 && /nope\.py/.test(e.message),
    );
    const all = workflowFiles(dir, [], join(dir, 'workflow.yaml'), { all: true });
    assert.deepEqual(Object.keys(all).sort(), ['data.csv', 'lib/util.py', 'other.py', 'uis.py']);
    assert.throws(
      () => workflowFiles(dir, ['python uis.py'], join(dir, 'workflow.yaml'), { maxBytes: 3 }),
      (e: CliError) => e.code === 'too_large',
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('readDirectory: relative / paths, hidden entries and symlinks skipped, binary refused', () => {
  const dir = tree({ 'a.txt': 'A', 'sub/b.txt': 'B', '.git/config': 'x', '.env': 'SECRET=1' });
  try {
    symlinkSync('/etc/hostname', join(dir, 'link.txt'));
    assert.deepEqual(readDirectory(dir), { 'a.txt': 'A', 'sub/b.txt': 'B' });
    writeFileSync(join(dir, 'blob.bin'), Buffer.from([0xc3, 0x28]));
    assert.throws(
      () => readDirectory(dir),
      (e: CliError) => e.exitCode === 2 && /blob\.bin is not UTF-8/.test(e.message),
    );
    assert.throws(
      () => readDirectory(join(dir, 'a.txt')),
      (e: CliError) => e.exitCode === 2 && /not a directory/.test(e.message),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
