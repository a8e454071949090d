import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LedgerflowError } from '../../../src/core/errors';
import { workspaceDigests } from '../../../src/adapters/compute/local/workspace';

/** The output manifest's view of a workspace a job filled with traps: only regular files
 * inside, read through a descriptor that followed no link. */

const sha256 = (s: string) => createHash('sha256').update(s).digest('hex');

test('links (to files and directories, in or out of the workspace), FIFOs and sockets are not outputs', async () => {
  const base = mkdtempSync(join(tmpdir(), 'lf-digests-'));
  try {
    const outside = join(base, 'outside');
    const ws = join(base, 'ws');
    mkdirSync(join(outside, 'dir'), { recursive: true });
    writeFileSync(join(outside, 'secret'), 'host secret');
    writeFileSync(join(outside, 'dir', 'inner'), 'also secret');
    mkdirSync(join(ws, 'sub'), { recursive: true });
    writeFileSync(join(ws, 'ok.txt'), 'fine');
    writeFileSync(join(ws, 'sub', 'nested.txt'), 'nested');
    writeFileSync(join(ws, 'bad\nname'), 'a name the API path rule refuses');
    symlinkSync(join(outside, 'secret'), join(ws, 'to-secret'));
    symlinkSync(join(outside, 'dir'), join(ws, 'to-dir'));
    symlinkSync('ok.txt', join(ws, 'to-ok'));
    execFileSync('mkfifo', [join(ws, 'pipe')]);
    const digests = await workspaceDigests(ws);
    assert.deepEqual(digests, [
      { path: 'bad\nname', size: 32, sha256: sha256('a name the API path rule refuses') },
      { path: 'ok.txt', size: 4, sha256: sha256('fine') },
      { path: 'sub/nested.txt', size: 6, sha256: sha256('nested') },
    ]);
    // A workspace that is itself gone lists nothing.
    assert.deepEqual(await workspaceDigests(join(base, 'none')), []);
  } finally {
    rmSync(base, { recursive: true, force: true });
  }
});

test('more files than a manifest may hold is a typed refusal, not a huge history', async () => {
  const ws = mkdtempSync(join(tmpdir(), 'lf-digests-'));
  try {
    for (let i = 0; i < 6; i++) writeFileSync(join(ws, `f${i}`), '');
    await assert.rejects(workspaceDigests(ws, 5), (err: unknown) => err instanceof LedgerflowError && err.code === 'payload_too_large');
    assert.equal((await workspaceDigests(ws, 6)).length, 6);
  } finally {
    rmSync(ws, { recursive: true, force: true });
  }
});
