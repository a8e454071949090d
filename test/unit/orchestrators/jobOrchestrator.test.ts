import { test } from 'node:test';
import assert from 'node:assert/strict';
import { jobOrchestrator } from '../../../orchestrators/jobOrchestrator';
import type { LaunchJobInput } from '../../../orchestrators/activities/jobs';
import type { NotifyWorkflowInput } from '../../../orchestrators/activities/control';
import type { JobResult } from '../../../src/core/workflow/run';
import type { JobObservation } from '../../../src/ports/compute';
import { drive, stub, type ActivityStub, type Run } from './replay';
import { job, jobInput } from './fixtures';

const handle = (attempt: number) => ({ backend: 'local', ref: `wf-1-job-1-${attempt}` });

/** Activities of a job whose attempts exit with these codes, reported by callback after 5 s. */
function activities(exitCodes: number[], overrides: Record<string, ActivityStub> = {}): Record<string, ActivityStub> {
  return {
    launchJob: stub<LaunchJobInput>((input, d) => {
      const code = exitCodes[input.attempt - 1];
      if (code !== undefined) d.raise('job-completed', { attempt: input.attempt, exitCode: code }, 5);
      return { handle: handle(input.attempt) };
    }),
    jobStatus: (): JobObservation => ({ phase: 'Running', exitCode: null }),
    cancelJob: () => null,
    notifyWorkflow: () => null,
    ...overrides,
  };
}

const calls = (run: Run, name: string) => run.calls.filter((c) => c.kind === 'activity' && c.name === name).map((c) => (c as { input: unknown }).input);

test('a job that reports success by callback succeeds in one attempt and tells the workflow', async () => {
  const run = await drive(jobOrchestrator, { name: 'jobOrchestrator', instanceId: 'wf-1:job:job-1', input: jobInput(job(1)), activities: activities([0]) });
  assert.equal(run.failed, undefined);
  const result = run.output as JobResult;
  assert.equal(result.status, 'Succeeded');
  assert.equal(result.exitCode, 0);
  assert.equal(result.attempts, 1);
  assert.deepEqual(calls(run, 'notifyWorkflow'), [{ workflowId: 'wf-1', jobIndex: 1, result }]);
  assert.deepEqual(calls(run, 'cancelJob'), []);
});

test('a failing job is retried as attempt n+1 until it succeeds', async () => {
  const run = await drive(jobOrchestrator, {
    name: 'jobOrchestrator',
    instanceId: 'i',
    input: jobInput(job(1, { retries: 2 })),
    activities: activities([3, 0]),
  });
  const result = run.output as JobResult;
  assert.equal(result.status, 'Succeeded');
  assert.equal(result.attempts, 2);
  assert.deepEqual(
    calls(run, 'launchJob').map((i) => (i as LaunchJobInput).attempt),
    [1, 2],
  );
});

test('a job that fails every attempt fails with the last exit code', async () => {
  const run = await drive(jobOrchestrator, {
    name: 'jobOrchestrator',
    instanceId: 'i',
    input: jobInput(job(1, { retries: 1 })),
    activities: activities([2, 7]),
  });
  const result = run.output as JobResult;
  assert.equal(result.status, 'Failed');
  assert.equal(result.exitCode, 7);
  assert.equal(result.attempts, 2);
});

test('a lost completion event is recovered by the periodic status check', async () => {
  let asked = 0;
  const run = await drive(jobOrchestrator, {
    name: 'jobOrchestrator',
    instanceId: 'i',
    input: jobInput(job(1)),
    activities: activities([], {
      jobStatus: (): JobObservation =>
        ++asked < 3
          ? { phase: 'Running', exitCode: null }
          : { phase: 'Succeeded', exitCode: 0, startedAt: '2026-01-01T00:00:01.000Z', endedAt: '2026-01-01T00:01:10.000Z' },
    }),
  });
  const result = run.output as JobResult;
  assert.equal(result.status, 'Succeeded');
  assert.equal(asked, 3);
  assert.equal(result.endedAt, '2026-01-01T00:01:10.000Z', 'times come from the backend when it knows them');
  const timers = run.calls.filter((c) => c.kind === 'timer');
  assert.ok(
    timers.every((t) => t.kind === 'timer' && t.fireAt - t.at === 30_000),
    'a check every statusPollSeconds',
  );
});

test('a job that never finishes is canceled at its deadline (timeout + grace) and fails', async () => {
  const run = await drive(jobOrchestrator, { name: 'jobOrchestrator', instanceId: 'i', input: jobInput(job(1), 100), activities: activities([]) });
  const result = run.output as JobResult;
  assert.equal(result.status, 'Failed');
  assert.match(result.message ?? '', /timed out after 100s/);
  assert.deepEqual(calls(run, 'cancelJob'), [{ handle: handle(1) }]);
  assert.equal(run.end - Date.parse('2026-01-01T00:00:00Z'), 160_000);
});

test('a cancel event stops the running job and the job ends Canceled', async () => {
  const run = await drive(jobOrchestrator, {
    name: 'jobOrchestrator',
    instanceId: 'i',
    input: jobInput(job(1, { retries: 3 })),
    activities: activities([]),
    events: [{ atSeconds: 45, name: 'cancel', data: { reason: 'canceled' } }],
  });
  const result = run.output as JobResult;
  assert.equal(result.status, 'Canceled');
  assert.deepEqual(calls(run, 'cancelJob'), [{ handle: handle(1) }]);
  assert.equal(calls(run, 'launchJob').length, 1);
  assert.equal((calls(run, 'notifyWorkflow')[0] as NotifyWorkflowInput).result.status, 'Canceled');
});

test('a job whose lease is gone fails without launching or retrying', async () => {
  const run = await drive(jobOrchestrator, {
    name: 'jobOrchestrator',
    instanceId: 'i',
    input: jobInput(job(1, { retries: 2, volumes: [{ id: 'ds-uis', name: 'uis', path: '/home/jovyan/uis' }] })),
    activities: activities([0], { launchJob: () => ({ leasesMissing: ['ds-uis'] }) }),
  });
  const result = run.output as JobResult;
  assert.equal(result.status, 'Failed');
  assert.match(result.message ?? '', /ds-uis/);
  assert.equal(calls(run, 'launchJob').length, 1, 'not retried');
  assert.deepEqual(calls(run, 'jobStatus'), []);
});

test('a late report of an earlier attempt does not end the current one', async () => {
  const run = await drive(jobOrchestrator, {
    name: 'jobOrchestrator',
    instanceId: 'i',
    input: jobInput(job(1, { retries: 1 })),
    activities: activities([], {
      launchJob: stub<LaunchJobInput>((input, d) => {
        if (input.attempt === 1) d.raise('job-completed', { attempt: 1, exitCode: 1 }, 5);
        if (input.attempt === 2) {
          d.raise('job-completed', { attempt: 1, exitCode: 1 }, 2); // duplicate delivery of attempt 1
          d.raise('job-completed', { attempt: 2, exitCode: 0 }, 9);
        }
        return { handle: handle(input.attempt) };
      }),
    }),
  });
  const result = run.output as JobResult;
  assert.equal(result.status, 'Succeeded');
  assert.equal(result.attempts, 2);
});

test('a launch the backend refuses counts as a failed attempt and is retried', async () => {
  let launches = 0;
  const run = await drive(jobOrchestrator, {
    name: 'jobOrchestrator',
    instanceId: 'i',
    input: jobInput(job(1, { retries: 1 })),
    activities: activities([], {
      launchJob: stub<LaunchJobInput>((input, d) => {
        if (++launches === 1) throw new Error('backend unavailable');
        d.raise('job-completed', { attempt: input.attempt, exitCode: 0 }, 1);
        return { handle: handle(input.attempt) };
      }),
    }),
  });
  assert.equal((run.output as JobResult).status, 'Succeeded');
  assert.equal((run.output as JobResult).attempts, 2);
});

test('a job the workflow waits on directly reports a success only by completing, a failure also by event', async () => {
  const quiet = { ...jobInput(job(1)), reportSuccess: false };
  const ok = await drive(jobOrchestrator, { name: 'jobOrchestrator', instanceId: 'i', input: quiet, activities: activities([0]) });
  assert.equal((ok.output as JobResult).status, 'Succeeded');
  assert.deepEqual(calls(ok, 'notifyWorkflow'), []);
  const failed = await drive(jobOrchestrator, { name: 'jobOrchestrator', instanceId: 'i', input: quiet, activities: activities([4]) });
  assert.equal((failed.output as JobResult).status, 'Failed');
  assert.equal(calls(failed, 'notifyWorkflow').length, 1);
});
