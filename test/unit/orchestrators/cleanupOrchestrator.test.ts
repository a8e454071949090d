import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cleanupOrchestrator } from '../../../orchestrators/cleanupOrchestrator';
import type { CleanupMessage } from '../../../src/core/workflow/run';
import { drive, type Run } from './replay';

const message = (releaseLeases: boolean): CleanupMessage => ({
  workflowId: 'wf-1',
  caller: { user: 'alice', org: 'uis' },
  status: 'Succeeded',
  datasetIds: ['d1', 'd2'],
  releaseLeases,
});
const names = (run: Run) => run.calls.flatMap((c) => (c.kind === 'activity' ? [c.name] : []));

test("cleanup removes the run's compute objects, releases its leases when asked, and records it", async () => {
  let failures = 1;
  const run = await drive(cleanupOrchestrator, {
    name: 'cleanupOrchestrator',
    instanceId: 'wf-1:cleanup',
    input: message(true),
    activities: {
      cleanupCompute: () => {
        if (failures-- > 0) throw new Error('backend busy');
        return null;
      },
      releaseRunLeases: () => ({ released: ['d1'] }),
      recordWorkflowCleanedUp: () => null,
    },
  });
  assert.deepEqual(names(run), ['cleanupCompute', 'cleanupCompute', 'releaseRunLeases', 'recordWorkflowCleanedUp']);
  assert.deepEqual(run.output, { released: ['d1'] });
});

test('cleanup keeps the leases when the run did not ask to release them', async () => {
  const run = await drive(cleanupOrchestrator, {
    name: 'cleanupOrchestrator',
    instanceId: 'wf-1:cleanup',
    input: message(false),
    activities: { cleanupCompute: () => null, recordWorkflowCleanedUp: () => null },
  });
  assert.deepEqual(names(run), ['cleanupCompute', 'recordWorkflowCleanedUp']);
});

test('a run that mounted no dataset has no ledger record to mark cleaned up', async () => {
  const run = await drive(cleanupOrchestrator, {
    name: 'cleanupOrchestrator',
    instanceId: 'wf-1:cleanup',
    input: { ...message(true), datasetIds: [] },
    activities: { cleanupCompute: () => null, releaseRunLeases: () => ({ released: [] }) },
  });
  assert.deepEqual(names(run), ['cleanupCompute', 'releaseRunLeases']);
});

test('outputs the ledger rejected at finish are deleted; others are kept for their review', async () => {
  const activities = { cleanupCompute: () => null, recordWorkflowCleanedUp: () => null, deleteRunOutputs: () => null };
  const rejected = await drive(cleanupOrchestrator, {
    name: 'cleanupOrchestrator',
    instanceId: 'wf-1:cleanup',
    input: { ...message(false), status: 'Failed', deleteOutputs: true },
    activities,
  });
  assert.deepEqual(names(rejected), ['cleanupCompute', 'deleteRunOutputs', 'recordWorkflowCleanedUp']);
  const kept = await drive(cleanupOrchestrator, { name: 'cleanupOrchestrator', instanceId: 'wf-1:cleanup', input: message(false), activities });
  assert.deepEqual(names(kept), ['cleanupCompute', 'recordWorkflowCleanedUp']);
});
