import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LedgerflowError } from '../../../src/core/errors';
import type { ScheduleDefinition } from '../../../src/core/schedules/schedule';
import { ORCHESTRATORS } from '../../../src/core/workflow/run';
import { runTick } from '../../../src/app/schedules/tick';
import type { RunControl, RunRecord } from '../../../src/app/workflows/runControl';
import type { WorkflowService } from '../../../src/app/workflows/workflowService';

/** One tick: a normal submission as the creator with the tick's own run id, or the reason it
 * cannot run; a tick repeated after a crash finds its run instead of submitting again. */
const definition: ScheduleDefinition = {
  id: 'sched-uis-' + 'a'.repeat(32),
  name: 'n',
  creator: { user: 'alice', org: 'uis' },
  workflow: 'jobs: []',
  files: { 'a.py': 'print(1)' },
  schedule: '*/3 * * * * *',
  enabled: true,
  options: { overlap: 'skip', releaseLeases: false },
  createdAt: '2026-01-01T00:00:00.000Z',
};

function runsWith(statuses: Record<string, string>): RunControl {
  const record = (id: string, status: string): RunRecord => ({
    instanceId: id,
    name: ORCHESTRATORS.workflow,
    runtimeStatus: 'Running',
    createdAt: '',
    updatedAt: '',
    input: undefined,
    customStatus: { status, submittedBy: { user: 'alice', org: 'uis' }, datasetIds: [], jobs: [] },
  });
  return {
    start: async () => undefined,
    get: async (id) => (statuses[id] === undefined ? undefined : record(id, statuses[id]!)),
    list: async () => [],
    raise: async () => undefined,
    purge: async () => 0,
  };
}

function service(submit: WorkflowService['submit']): WorkflowService {
  return { submit } as unknown as WorkflowService;
}

test('a tick submits as the creator under its own run id, with the files and options', async () => {
  const calls: unknown[][] = [];
  const outcome = await runTick(
    { definition, workflowId: 'w-1' },
    service(async (...args) => {
      calls.push(args);
      return { id: 'w-1', status: 'AwaitingApproval' };
    }),
    runsWith({}),
  );
  assert.deepEqual(outcome, { workflowId: 'w-1', status: 'AwaitingApproval', reason: 'awaiting approval' });
  assert.deepEqual(calls, [[definition.creator, { source: definition.workflow, files: definition.files, options: { releaseLeases: false } }, 'w-1']]);
});

test('a repeated tick answers its existing run and submits nothing', async () => {
  const outcome = await runTick(
    { definition, workflowId: 'w-1' },
    service(async () => assert.fail('submitted twice')),
    runsWith({ 'w-1': 'Running' }),
  );
  assert.deepEqual(outcome, { workflowId: 'w-1', status: 'Running' });
});

test('overlap skip: the previous run has not ended; once it has, the tick runs', async () => {
  const skipped = await runTick(
    { definition, workflowId: 'w-2', previousWorkflowId: 'w-1' },
    service(async () => assert.fail('must not submit')),
    runsWith({ 'w-1': 'AwaitingApproval' }),
  );
  assert.equal(skipped.workflowId, null);
  assert.match(skipped.reason ?? '', /^previous run still running: w-1 is AwaitingApproval/);
  const ran = await runTick(
    { definition, workflowId: 'w-2', previousWorkflowId: 'w-1' },
    service(async () => ({ id: 'w-2', status: 'Pending' })),
    runsWith({ 'w-1': 'Succeeded' }),
  );
  assert.deepEqual(ran, { workflowId: 'w-2', status: 'Pending' });
});

test('refusals are recorded with their reason and details; passing failures are thrown (the orchestration retries)', async () => {
  const forbidden = new LedgerflowError('forbidden', 'the workflow mounts datasets the caller has not leased', {
    details: [{ path: 'jobs[0].volumes[0].id', message: 'dataset d (d) is not leased by alice@uis' }],
  });
  const skipped = await runTick(
    { definition, workflowId: 'w-3' },
    service(async () => {
      throw forbidden;
    }),
    runsWith({}),
  );
  assert.deepEqual(skipped, {
    workflowId: null,
    status: 'Skipped',
    reason: 'lease not held: the workflow mounts datasets the caller has not leased (jobs[0].volumes[0].id: dataset d (d) is not leased by alice@uis)',
  });
  await assert.rejects(
    runTick(
      { definition, workflowId: 'w-3' },
      service(async () => {
        throw new LedgerflowError('unavailable', 'ledger down');
      }),
      runsWith({}),
    ),
    /ledger down/,
  );
});
