import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { holdProcessLock, LockHeldError } from '../../../src/fs/processLock';

test('a lock another process holds is refused until that process dies, even if the holder dropped its handle; taking a lock on an existing file writes nothing', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lf-lock-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'x.lock.db');
  // Created (and initialized by SQLite) once.
  holdProcessLock(file).release();
  const before = statSync(file);

  const holder = spawn(
    process.execPath,
    [
      '--expose-gc',
      '-e',
      // The handle is dropped and collected: the lock is the process's, not the object's.
      `require(${JSON.stringify(require.resolve('../../../src/fs/processLock'))}).holdProcessLock(${JSON.stringify(file)}); gc(); gc(); process.stdout.write('held\\n'); setInterval(() => {}, 1000);`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  t.after(() => holder.kill('SIGKILL'));
  await once(holder.stdout, 'data');
  assert.throws(
    () => holdProcessLock(file),
    (err: unknown) => err instanceof LockHeldError && err.holderPid === holder.pid,
  );
  holder.kill('SIGKILL');
  await once(holder, 'exit');

  const lock = holdProcessLock(file);
  lock.release();
  const after = statSync(file);
  assert.equal(after.size, before.size);
  assert.equal(after.mtimeMs, before.mtimeMs, 'the database file was not written');
});
