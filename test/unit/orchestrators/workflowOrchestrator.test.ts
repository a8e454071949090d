import { test } from 'node:test';
import assert from 'node:assert/strict';
import { workflowOrchestrator } from '../../../orchestrators/workflowOrchestrator';
import type { CancelJobsInput } from '../../../orchestrators/activities/control';
import type { RecordFinishInput, RequestApprovalsInput } from '../../../orchestrators/activities/ledger';
import type { CleanupMessage, JobInput, JobResult, WorkflowRunStatus } from '../../../src/core/workflow/run';
import type { WorkflowSpec } from '../../../src/core/workflow/spec';
import { drive, stub, subStub, type Run, type Scenario } from './replay';
import { job, spec, workflowInput } from './fixtures';

const iso = (ms: number) => new Date(ms).toISOString();

/** Job sub-orchestrations that take `seconds` and end as planned; they report the way real
 * ones do (event, then completion; a success of a job started alone by completion only)
 * unless told otherwise. */
function scenario(
  s: WorkflowSpec,
  plan: Record<number, { seconds: number; exitCode?: number }>,
  options: {
    report?: 'event' | 'completion' | 'both';
    events?: Scenario['events'];
    activities?: Scenario['activities'];
    releaseLeases?: boolean;
    /** Datasets whose owners must approve (the approval phase runs first). */
    approvals?: string[];
  } = {},
): Scenario {
  const report = options.report ?? 'both';
  const indexOf = new Map(s.jobs.map((j) => [j.name, j.index]));
  return {
    name: 'workflowOrchestrator',
    instanceId: 'wf-1',
    input: workflowInput(s, options.releaseLeases, options.approvals),
    events: options.events ?? [],
    activities: {
      recordWorkflowLaunched: () => null,
      recordWorkflowFinished: () => ({ results: 'released' }),
      leasesLost: () => [],
      collectOutputs: () => ({ outputs: { files: [], logs: [] } }),
      requestApprovals: stub<RequestApprovalsInput>((input) =>
        input.datasetIds.map((datasetId) => ({ datasetId, owner: { org: `owner-of-${datasetId}` }, state: 'pending' })),
      ),
      requestCleanup: () => null,
      // Canceled jobs report at once, as the job orchestrator does after cancelJob.
      cancelJobs: stub<CancelJobsInput>((input, d) => {
        for (const name of input.jobNames) {
          const result: JobResult = { status: 'Canceled', exitCode: null, startedAt: null, endedAt: iso(d.now + 1000), attempts: 1 };
          d.raise(`job-finished-${indexOf.get(name)}`, result, 1);
        }
        return null;
      }),
      ...options.activities,
    },
    subOrchestrations: {
      jobOrchestrator: subStub<JobInput>((input, _id, d) => {
        const p = plan[input.job.index] ?? { seconds: 10 };
        const exitCode = p.exitCode ?? 0;
        const result: JobResult = {
          status: exitCode === 0 ? 'Succeeded' : 'Failed',
          exitCode,
          startedAt: iso(d.now),
          endedAt: iso(d.now + p.seconds * 1000),
          attempts: 1,
        };
        // As the job orchestrator: a success is reported by event unless the input says not to.
        const reports = report !== 'completion' && (input.reportSuccess !== false || result.status !== 'Succeeded');
        if (reports) d.raise(`job-finished-${input.job.index}`, result, p.seconds);
        return { afterSeconds: report === 'event' && reports ? 1e6 : p.seconds, result };
      }),
    },
  };
}

const activityInputs = (run: Run, name: string) =>
  run.calls.filter((c) => c.kind === 'activity' && c.name === name).map((c) => (c as { input: unknown }).input);
const activityOrder = (run: Run) => run.calls.filter((c) => c.kind === 'activity').map((c) => (c as { name: string }).name);
const startedAt = (run: Run) => new Map(run.calls.flatMap((c) => (c.kind === 'sub' ? [[(c.input as JobInput).job.name, c.at] as const] : [])));
const final = (run: Run) => run.output as WorkflowRunStatus;
const jobStatuses = (run: Run) => Object.fromEntries(final(run).jobs.map((j) => [j.name, j.status]));

const thesisParallel = () =>
  spec(
    [job(1), job(2), job(3), job(4), job(5)],
    [
      [1, 2],
      [1, 3],
      [1, 4],
      [2, 5],
      [3, 5],
      [4, 5],
    ],
  );

test('a linear workflow runs its jobs one after another and ends Succeeded', async () => {
  const run = await drive(
    workflowOrchestrator,
    scenario(
      spec(
        [job(1), job(2), job(3)],
        [
          [1, 2],
          [2, 3],
        ],
      ),
      { 1: { seconds: 5 }, 2: { seconds: 7 }, 3: { seconds: 3 } },
      { releaseLeases: true },
    ),
  );
  assert.equal(run.failed, undefined);
  assert.equal(final(run).status, 'Succeeded');
  const jobs = final(run).jobs;
  for (let i = 1; i < jobs.length; i++) assert.ok(jobs[i]!.startedAt! >= jobs[i - 1]!.endedAt!, `${jobs[i]!.name} starts after ${jobs[i - 1]!.name} ends`);
  assert.deepEqual(activityOrder(run), ['recordWorkflowLaunched', 'leasesLost', 'collectOutputs', 'recordWorkflowFinished', 'requestCleanup']);
  const cleanup = activityInputs(run, 'requestCleanup')[0] as CleanupMessage;
  assert.deepEqual(cleanup, { workflowId: 'wf-1', caller: { user: 'alice', org: 'uis' }, status: 'Succeeded', datasetIds: ['ds-uis'], releaseLeases: true });
  assert.deepEqual((run.statuses[0] as WorkflowRunStatus).status, 'Pending');
});

test('a run that mounts no dataset is not recorded on the ledger (its records name at least one)', async () => {
  const run = await drive(workflowOrchestrator, scenario(spec([job(1, { volumes: [] })], []), { 1: { seconds: 2 } }));
  assert.equal(final(run).status, 'Succeeded');
  assert.deepEqual(activityOrder(run), ['requestCleanup']);
});

test('independent jobs run in parallel and the join waits for all of them (thesis experiment 2)', async () => {
  const run = await drive(
    workflowOrchestrator,
    scenario(thesisParallel(), { 1: { seconds: 2 }, 2: { seconds: 10 }, 3: { seconds: 4 }, 4: { seconds: 6 }, 5: { seconds: 1 } }),
  );
  assert.equal(final(run).status, 'Succeeded');
  const at = startedAt(run);
  assert.equal(at.get('job-2'), at.get('job-3'));
  assert.equal(at.get('job-3'), at.get('job-4'));
  assert.ok(at.get('job-2')! > at.get('job-1')!);
  assert.equal(at.get('job-5')! - at.get('job-2')!, 10_000, 'job-5 starts when the slowest of 2, 3, 4 ends');
});

test('a job orchestration that ends without reporting is noticed by the watchdog', async () => {
  const run = await drive(workflowOrchestrator, scenario(thesisParallel(), { 2: { seconds: 3 } }, { report: 'completion' }));
  assert.equal(final(run).status, 'Succeeded');
  assert.deepEqual(Object.values(jobStatuses(run)), ['Succeeded', 'Succeeded', 'Succeeded', 'Succeeded', 'Succeeded']);
  const watchdogs = run.calls.filter((c) => c.kind === 'timer' && c.fireAt - c.at === 300_000);
  assert.ok(watchdogs.length > 0);
});

test('the run follows report events alone (sub-orchestration completion delayed)', async () => {
  const run = await drive(workflowOrchestrator, scenario(thesisParallel(), {}, { report: 'event' }));
  assert.equal(final(run).status, 'Succeeded');
});

test('a failed job fails the run fast: running jobs are canceled, dependents skipped', async () => {
  const run = await drive(workflowOrchestrator, scenario(thesisParallel(), { 2: { seconds: 100 }, 3: { seconds: 5, exitCode: 2 }, 4: { seconds: 200 } }));
  assert.equal(final(run).status, 'Failed');
  assert.deepEqual(jobStatuses(run), { 'job-1': 'Succeeded', 'job-2': 'Canceled', 'job-3': 'Failed', 'job-4': 'Canceled', 'job-5': 'Skipped' });
  assert.deepEqual(
    activityInputs(run, 'cancelJobs').map((i) => (i as CancelJobsInput).jobNames),
    [['job-2', 'job-4']],
  );
  assert.equal(final(run).jobs.find((j) => j.name === 'job-3')!.exitCode, 2);
  const finish = activityInputs(run, 'recordWorkflowFinished')[0] as RecordFinishInput;
  assert.equal(finish.status, 'Failed');
  assert.equal(startedAt(run).get('job-5'), undefined, 'job-5 never started');
  assert.ok(run.end - Date.parse('2026-01-01T00:00:00Z') < 100_000, 'the run did not wait for the canceled jobs to finish on their own');
});

test('a cancel event cancels running jobs and marks the rest Canceled', async () => {
  const run = await drive(
    workflowOrchestrator,
    scenario(
      spec(
        [job(1), job(2), job(3)],
        [
          [1, 2],
          [2, 3],
        ],
      ),
      { 1: { seconds: 60 } },
      {
        events: [{ atSeconds: 20, name: 'cancel', data: { reason: 'user' } }],
      },
    ),
  );
  assert.equal(final(run).status, 'Canceled');
  assert.deepEqual(jobStatuses(run), { 'job-1': 'Canceled', 'job-2': 'Canceled', 'job-3': 'Canceled' });
  assert.equal(final(run).message, 'user', "the cancel's reason is the run's message");
  assert.deepEqual(
    activityInputs(run, 'cancelJobs').map((i) => (i as CancelJobsInput).jobNames),
    [['job-1']],
  );
  assert.equal((activityInputs(run, 'requestCleanup')[0] as CleanupMessage).status, 'Canceled');
});

test('a run whose jobs all succeeded after its lease ended is Canceled with the reason, not Succeeded', async () => {
  const run = await drive(
    workflowOrchestrator,
    scenario(spec([job(1)], []), { 1: { seconds: 5 } }, { activities: { leasesLost: () => ['dataset ds-uis: dataset deleted'] } }),
  );
  assert.equal(final(run).status, 'Canceled');
  assert.equal(final(run).message, 'dataset ds-uis: dataset deleted');
  assert.deepEqual(jobStatuses(run), { 'job-1': 'Succeeded' });
  assert.equal((activityInputs(run, 'recordWorkflowFinished')[0] as RecordFinishInput).status, 'Canceled');
  assert.equal((activityInputs(run, 'requestCleanup')[0] as CleanupMessage).status, 'Canceled');
});

test('a cancel that arrives while the launch is being recorded still cancels the run', async () => {
  const run = await drive(
    workflowOrchestrator,
    scenario(
      spec([job(1)], []),
      {},
      {
        activities: {
          recordWorkflowLaunched: stub((_input, d) => {
            d.raise('cancel', {});
            return null;
          }),
        },
      },
    ),
  );
  assert.equal(final(run).status, 'Canceled');
});

test('a workflow timeout fails the run and cancels what runs', async () => {
  const s = spec([job(1), job(2)], [[1, 2]], { timeoutSeconds: 30 });
  const run = await drive(workflowOrchestrator, scenario(s, { 1: { seconds: 20 }, 2: { seconds: 60 } }));
  assert.equal(final(run).status, 'Failed');
  assert.match(final(run).message ?? '', /timed out after 30s/);
  assert.deepEqual(jobStatuses(run), { 'job-1': 'Succeeded', 'job-2': 'Canceled' });
});

test('when the launch cannot be recorded on the ledger no job runs, and cleanup still follows', async () => {
  const run = await drive(
    workflowOrchestrator,
    scenario(
      spec([job(1), job(2)], []),
      {},
      {
        activities: {
          recordWorkflowLaunched: () => {
            throw new Error('ledger unavailable');
          },
        },
      },
    ),
  );
  assert.equal(final(run).status, 'Failed');
  assert.deepEqual(jobStatuses(run), { 'job-1': 'Skipped', 'job-2': 'Skipped' });
  assert.equal(activityInputs(run, 'recordWorkflowLaunched').length, 3, 'tried three times');
  assert.equal(activityInputs(run, 'requestCleanup').length, 1);
  assert.equal(startedAt(run).size, 0);
});

test('the custom status tracks every job as it changes', async () => {
  const run = await drive(workflowOrchestrator, scenario(spec([job(1), job(2)], [[1, 2]]), {}));
  const seen = (run.statuses as WorkflowRunStatus[]).map((s) => `${s.status}:${s.jobs.map((j) => j.status[0]).join('')}`);
  // Running:SS while the finish checks the leases are still held and the outputs are listed
  // and hashed, before the run's end is known.
  assert.deepEqual([...new Set(seen)], ['Pending:PP', 'Running:RP', 'Running:SR', 'Running:SS', 'Succeeded:SS']);
});

test('a job started alone is awaited by its sub-orchestration: no report asked for, no watchdog timer', async () => {
  const run = await drive(workflowOrchestrator, scenario(thesisParallel(), {}));
  assert.equal(final(run).status, 'Succeeded');
  const quiet = run.calls.flatMap((c) => (c.kind === 'sub' && (c.input as JobInput).reportSuccess === false ? [(c.input as JobInput).job.name] : []));
  assert.deepEqual(quiet, ['job-1', 'job-5'], 'jobs 2-4 start together and report by event');
  const linear = await drive(
    workflowOrchestrator,
    scenario(
      spec(
        [job(1), job(2), job(3)],
        [
          [1, 2],
          [2, 3],
        ],
      ),
      {},
    ),
  );
  assert.equal(final(linear).status, 'Succeeded');
  assert.deepEqual(
    linear.calls.filter((c) => c.kind === 'timer'),
    [],
  );
});

// ---- the approval phase

const approved = (user = 'olav', org = 'uis') => ({ state: 'approved', by: { user, org } });
const rejected = (reason: string) => ({ state: 'rejected', by: { user: 'olav', org: 'uis' }, reason });

test('a run that needs approval waits in AwaitingApproval, launches nothing until every owner approved, then runs', async () => {
  const run = await drive(
    workflowOrchestrator,
    scenario(
      spec([job(1), job(2)], [[1, 2]]),
      {},
      {
        approvals: ['ds-uis', 'ds-uib'],
        events: [
          { atSeconds: 100, name: 'approval-decided-ds-uis', data: approved() },
          { atSeconds: 200, name: 'approval-decided-ds-uib', data: approved('ina', 'uib') },
        ],
      },
    ),
  );
  assert.equal(run.failed, undefined);
  assert.equal(final(run).status, 'Succeeded');
  assert.equal((run.statuses[0] as WorkflowRunStatus).status, 'AwaitingApproval');
  assert.ok(
    (run.statuses as WorkflowRunStatus[]).some((s) => s.status === 'AwaitingApproval' && s.approvals?.map((a) => a.state).join() === 'approved,pending'),
  );
  const start = Date.parse('2026-01-01T00:00:00Z');
  const launch = run.calls.find((c) => c.kind === 'activity' && c.name === 'recordWorkflowLaunched')!;
  assert.equal(launch.at, start + 200_000, 'launched when the last owner approved, not before');
  assert.ok([...startedAt(run).values()].every((at) => at >= start + 200_000));
  assert.deepEqual(
    final(run).approvals?.map((a) => a.state),
    ['approved', 'approved'],
  );
  assert.deepEqual((activityInputs(run, 'requestApprovals')[0] as RequestApprovalsInput).datasetIds, ['ds-uis', 'ds-uib']);
  // The spec goes to the ledger activities, which hash it themselves.
  assert.deepEqual((activityInputs(run, 'recordWorkflowLaunched')[0] as { spec: WorkflowSpec }).spec.jobs.length, 2);
  assert.ok(!run.calls.some((c) => c.kind === 'timer'), 'waiting for approval sets no timer (no polling)');
});

test('a rejection ends the run as Rejected: nothing launched, jobs Canceled, cleanup without a ledger record', async () => {
  const run = await drive(
    workflowOrchestrator,
    scenario(
      spec([job(1), job(2)], [[1, 2]]),
      {},
      {
        approvals: ['ds-uis', 'ds-uib'],
        events: [{ atSeconds: 50, name: 'approval-decided-ds-uib', data: rejected('reads everything') }],
      },
    ),
  );
  assert.equal(final(run).status, 'Rejected');
  assert.match(final(run).message ?? '', /reads everything/);
  assert.deepEqual(jobStatuses(run), { 'job-1': 'Canceled', 'job-2': 'Canceled' });
  assert.deepEqual(activityOrder(run), ['requestApprovals', 'requestCleanup']);
  assert.equal(startedAt(run).size, 0);
  const cleanup = activityInputs(run, 'requestCleanup')[0] as CleanupMessage;
  assert.deepEqual([cleanup.status, cleanup.launched], ['Rejected', false]);
});

test('cancel (or a lease that ends, which raises cancel) stops a run awaiting approval', async () => {
  const run = await drive(
    workflowOrchestrator,
    scenario(
      spec([job(1)], []),
      {},
      {
        approvals: ['ds-uis'],
        events: [
          { atSeconds: 30, name: 'cancel', data: { reason: 'lease on dataset ds-uis expired' } },
          { atSeconds: 60, name: 'approval-decided-ds-uis', data: approved() },
        ],
      },
    ),
  );
  assert.equal(final(run).status, 'Canceled');
  assert.deepEqual(jobStatuses(run), { 'job-1': 'Canceled' });
  assert.deepEqual(activityOrder(run), ['requestApprovals', 'requestCleanup']);
  assert.equal((activityInputs(run, 'requestCleanup')[0] as CleanupMessage).launched, false);
});

test('a decision raised while the requests are being recorded is not lost', async () => {
  const run = await drive(
    workflowOrchestrator,
    scenario(
      spec([job(1)], []),
      {},
      {
        approvals: ['ds-uis'],
        activities: {
          requestApprovals: stub<RequestApprovalsInput>((_input, d) => {
            d.raise('approval-decided-ds-uis', approved());
            return [{ datasetId: 'ds-uis', owner: { org: 'uis' }, state: 'pending' }];
          }),
        },
      },
    ),
  );
  assert.equal(final(run).status, 'Succeeded');
});

test('requests already approved by a reusable approval start the run at once', async () => {
  const run = await drive(
    workflowOrchestrator,
    scenario(
      spec([job(1)], []),
      {},
      {
        approvals: ['ds-uis'],
        activities: { requestApprovals: () => [{ datasetId: 'ds-uis', owner: { org: 'uis' }, state: 'approved' }] },
      },
    ),
  );
  assert.equal(final(run).status, 'Succeeded');
  assert.deepEqual(activityOrder(run), [
    'requestApprovals',
    'recordWorkflowLaunched',
    'leasesLost',
    'collectOutputs',
    'recordWorkflowFinished',
    'requestCleanup',
  ]);
});

test('when the requests cannot be recorded the run fails before any launch', async () => {
  const run = await drive(
    workflowOrchestrator,
    scenario(
      spec([job(1)], []),
      {},
      {
        approvals: ['ds-uis'],
        activities: {
          requestApprovals: () => {
            throw new Error('ledger unavailable');
          },
        },
      },
    ),
  );
  assert.equal(final(run).status, 'Failed');
  assert.deepEqual(jobStatuses(run), { 'job-1': 'Skipped' });
  assert.equal(activityInputs(run, 'recordWorkflowLaunched').length, 0);
});

test('outputs over the smallest maxResultBytes fail the run, with a message, and cleanup deletes them', async () => {
  const manifest = { files: [{ path: 'out.bin', size: 900, sha256: 'a'.repeat(64) }], logs: [] };
  const run = await drive(
    workflowOrchestrator,
    scenario(
      spec([job(1)], []),
      { 1: { seconds: 2 } },
      {
        activities: {
          collectOutputs: () => ({ outputs: manifest, exceeded: { bytes: 900, limit: 100 } }),
          recordWorkflowFinished: () => ({ results: 'rejected' }),
        },
      },
    ),
  );
  assert.equal(final(run).status, 'Failed');
  assert.match(final(run).message ?? '', /900 bytes, more than the smallest maxResultBytes .*\(100\)/);
  const finish = activityInputs(run, 'recordWorkflowFinished')[0] as RecordFinishInput;
  assert.equal(finish.status, 'Failed');
  assert.deepEqual(finish.outputs, manifest);
  const cleanup = activityInputs(run, 'requestCleanup')[0] as CleanupMessage;
  assert.equal(cleanup.deleteOutputs, true);
});

test('outputs that cannot be listed fail the run; the finish is recorded without them', async () => {
  const run = await drive(
    workflowOrchestrator,
    scenario(
      spec([job(1)], []),
      { 1: { seconds: 2 } },
      {
        activities: {
          collectOutputs: () => {
            throw new Error('the workspace holds more than 10000 files');
          },
        },
      },
    ),
  );
  assert.equal(final(run).status, 'Failed');
  assert.match(final(run).message ?? '', /outputs could not be listed: .*10000 files/);
  const finish = activityInputs(run, 'recordWorkflowFinished')[0] as RecordFinishInput;
  assert.equal(finish.outputs, undefined);
});
