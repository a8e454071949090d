import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { durableFetch } from '../../../bench/support/durableApi';
import { startHost, type TestHost } from '../../../bench/support/host';
import { conformanceAppDir, eventually, finished } from './support';

// kill -9 the host while an entity works through signals, restart it on the same data dir:
// every signal that was accepted (202) is applied exactly once to the state (a batch's new
// state and its consumed operations commit together), and calls still get their results.
const dataDir = mkdtempSync(join(tmpdir(), 'entity-crash-'));
const hosts: TestHost[] = [];
after(async () => {
  for (const h of hosts) await h.kill();
  rmSync(dataDir, { recursive: true, force: true });
});
const boot = async () => {
  const h = await startHost({ appDir: conformanceAppDir, dataDir, env: { LOG_LEVEL: 'warn' } });
  hosts.push(h);
  return h;
};
const state = async (h: TestHost, key: string): Promise<unknown> => {
  const res = await durableFetch(h, `entities/counterEntity/${key}`);
  return res.status === 200 ? res.json() : undefined;
};

test('entity signals survive kill -9: each accepted one applied exactly once', async () => {
  const first = await boot();
  let accepted = 0;
  const signal = async (h: TestHost) => {
    const res = await durableFetch(h, 'entities/counterEntity/crash?op=add', { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '1' });
    if (res.status === 202) accepted++;
  };
  // Concurrent signals, then the kill (the entity may still be working through them).
  await Promise.all(Array.from({ length: 150 }, () => signal(first)));
  assert.equal(accepted, 150);
  first.child.kill('SIGKILL');
  await first.exited;

  const second = await boot();
  await eventually(async () => ((await state(second, 'crash')) === accepted ? true : undefined), 30_000, 'every accepted signal applied');
  // And stays there: nothing is applied twice after the restart settles.
  const s = await fetch(`${second.url}/api/orchestrators/counterOrchestration`, { method: 'POST', body: JSON.stringify('crash') });
  const { body } = await finished(second, ((await s.json()) as { id: string }).id);
  assert.equal(body.output, accepted + 13);
});
