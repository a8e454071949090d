import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createOnce } from '../../../src/fs/atomicFile';

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lf-atomic-'));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

test(
  'createOnce makes the file private and whole, and leaves no temp file',
  withDir((dir) => {
    const file = join(dir, 'k.key');
    assert.equal(createOnce(file, Buffer.from('first\n')).toString(), 'first\n');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.deepEqual(readdirSync(dir), ['k.key']);
  }),
);

test(
  'createOnce returns what is there and never replaces it, however often it is called',
  withDir((dir) => {
    const file = join(dir, 'k.key');
    writeFileSync(file, 'kept\n', { mode: 0o600 });
    const before = statSync(file);
    assert.equal(createOnce(file, Buffer.from('other\n')).toString(), 'kept\n');
    assert.equal(createOnce(file, Buffer.from('other\n')).toString(), 'kept\n');
    // Same file, not written again.
    assert.equal(statSync(file).ino, before.ino);
    assert.equal(statSync(file).mtimeMs, before.mtimeMs);
    assert.deepEqual(readdirSync(dir), ['k.key']);
  }),
);

test(
  'createOnce reports a directory it cannot write to, and leaves nothing',
  withDir((dir) => {
    assert.throws(() => createOnce(join(dir, 'missing', 'k.key'), Buffer.from('x\n')), /ENOENT/);
    assert.deepEqual(readdirSync(dir), []);
  }),
);
