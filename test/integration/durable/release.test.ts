import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { InvocationContext } from '@azure/functions';
import { durableFetch } from '../../../bench/support/durableApi';
import { eventually, fixtureApp } from '../../../bench/support/host';
import { durableExtension } from '../../../src/durable/hostExtension';
import { startHost, type RunningHost } from '../../../src/host/host';
import { createLogger } from '../../../src/observability/logger';

// The host in this process, so that the test sees the contexts the orchestrator's episodes
// were given: once an episode has settled, the durable extension has dropped its SDK state
// (src/durable/triggerInput.ts, releaseEpisode).
const appDir = mkdtempSync(join(tmpdir(), 'lf-app-'));
const dataDir = mkdtempSync(join(tmpdir(), 'lf-data-'));
let host: RunningHost | undefined;
after(async () => {
  await host?.stop();
  rmSync(appDir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

test("an orchestrator episode's context holds no SDK state once the episode has settled", async () => {
  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ main: fixtureApp('directInvocation') }));
  host = await startHost({
    appDir,
    env: { PORT: '0', LEDGERFLOW_DATA_DIR: dataDir },
    extensions: [durableExtension()],
    logger: createLogger({ level: 'silent' }),
  });
  const running = { url: host.url, dataDir };
  const { remembered } = require(fixtureApp('directInvocation')) as { remembered: InvocationContext[] };
  const started = await durableFetch(running, 'orchestrators/remembers/r1', { method: 'POST' });
  assert.equal(started.status, 202, await started.text());
  await eventually(async () => {
    const status = (await (await durableFetch(running, 'instances/r1')).json()) as { runtimeStatus: string };
    return status.runtimeStatus === 'Completed' ? true : undefined;
  });
  // Two episodes: the first schedules the activity, the second returns its result.
  assert.equal(remembered.length, 2);
  for (const context of remembered) assert.equal((context as { df?: unknown }).df, undefined);
});
