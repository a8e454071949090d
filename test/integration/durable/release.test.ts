import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { InvocationContext } from '@azure/functions';
import { durableFetch } from '../../../bench/support/durableApi';
import { eventually, fixtureApp } from '../../../bench/support/host';
import { durableExtension } from '../../../src/durable/hostExtension';
import { startInProcessHost } from '../../helpers/inProcessApp';

// The host in this process, so that the test sees the contexts the orchestrator's episodes
// were given: once an episode has settled, the durable extension has dropped its SDK state
// (src/durable/triggerInput.ts, releaseEpisode).
let host: Awaited<ReturnType<typeof startInProcessHost>> | undefined;
after(() => host?.stop());

test("an orchestrator episode's context holds no SDK state once the episode has settled", async () => {
  host = await startInProcessHost(fixtureApp('directInvocation'), { extensions: [durableExtension()] });
  const running = { url: host.host.url, dataDir: host.dataDir };
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
