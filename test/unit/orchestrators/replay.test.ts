import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { OrchestrationContext, Task } from 'durable-functions';
import { workflowOrchestrator } from '../../../orchestrators/workflowOrchestrator';
import { h, replay } from './replay';
import { job, spec, workflowInput } from './fixtures';

const t0 = Date.parse('2026-01-01T00:00:00Z');

test('the harness refuses an orchestrator that re-yields a scheduled timer in a new Task.any (durable-js #574)', async () => {
  function* reYields(context: OrchestrationContext): Generator<Task, unknown, unknown> {
    const timer = context.df.createTimer(new Date(t0 + 60_000));
    yield context.df.Task.any([timer, context.df.waitForExternalEvent('a')]);
    yield context.df.Task.any([timer, context.df.waitForExternalEvent('b')]);
    return null;
  }
  const history = [
    h.orchestratorStarted(t0),
    h.executionStarted(t0, 'x', null),
    h.timerCreated(t0, 0, t0 + 60_000),
    h.orchestratorStarted(t0 + 1),
    h.eventRaised(t0 + 1, 'a', null),
  ];
  await assert.rejects(replay(reYields, 'x', null, history), /durable-js #574/);
});

// A hand-built history: job-1 of a linear 1 >> 2 has been launched alone (so the run waits
// on its sub-orchestration, with no watchdog timer) and has completed; the replay must
// schedule job-2's sub-orchestration and show job-1 succeeded.
test('replaying a hand-built history of a linear run starts the next job', async () => {
  const input = workflowInput(spec([job(1), job(2)], [[1, 2]]));
  const result1 = { status: 'Succeeded', exitCode: 0, startedAt: '2026-01-01T00:00:01.000Z', endedAt: '2026-01-01T00:00:09.000Z', attempts: 1 };
  const history = [
    h.orchestratorStarted(t0),
    h.executionStarted(t0, 'workflowOrchestrator', input),
    h.taskScheduled(t0, 0, 'recordWorkflowLaunched', {}),
    h.orchestratorCompleted(t0),
    h.orchestratorStarted(t0 + 1000),
    h.taskCompleted(t0 + 1000, 0, null),
    h.subCreated(t0 + 1000, 1, 'jobOrchestrator', 'wf-1:job:job-1', {}),
    h.orchestratorCompleted(t0 + 1000),
    h.orchestratorStarted(t0 + 10_000),
    h.subCompleted(t0 + 10_000, 1, result1),
  ];
  const { state, scheduled, failed } = await replay(workflowOrchestrator, 'wf-1', input, history);
  assert.equal(failed, undefined);
  assert.equal(state.isDone, false);
  assert.deepEqual(
    scheduled.map((s) => (s.kind === 'sub' ? `${s.seq}:sub:${s.instanceId}` : `${s.seq}:${s.kind}`)),
    ['0:activity', '1:sub:wf-1:job:job-1', '2:sub:wf-1:job:job-2'],
  );
  const status = state.customStatus as { status: string; jobs: { name: string; status: string; exitCode: number | null; startedAt: string }[] };
  assert.equal(status.status, 'Running');
  assert.deepEqual(
    status.jobs.map((j) => [j.name, j.status, j.exitCode]),
    [
      ['job-1', 'Succeeded', 0],
      ['job-2', 'Running', null],
    ],
  );
  assert.equal(status.jobs[1]!.startedAt, '2026-01-01T00:00:10.000Z', 'job-2 starts at the replayed time, not the wall clock');
});
