import type { LocalComputeBackend } from '../../../src/adapters/compute/local/localCompute';
import { nativeSupervisor } from '../../../src/adapters/compute/local/supervisor';
import type { JobHandle, JobLaunch, JobObservation } from '../../../src/ports/compute';

/** The C supervisor where the build made it, and the shell one it falls back to. */
export const supervisors = nativeSupervisor() === undefined ? (['sh'] as const) : (['native', 'sh'] as const);

let counter = 0;
/** A job of `workflowId` running `command`, named anew at each call. */
export function jobOf(workflowId: string, command: string, extra: Partial<JobLaunch> = {}): JobLaunch {
  return {
    workflowId,
    jobName: `job-${++counter}`,
    jobIndex: 1,
    attempt: 1,
    command,
    image: '',
    env: {},
    volumes: [],
    resources: {},
    timeoutSeconds: 60,
    callback: { url: 'http://127.0.0.1:9/unused', token: 'unused' },
    ...extra,
  };
}

/** The job's observation once it has ended (30 s at most). */
export async function settled(backend: LocalComputeBackend, handle: JobHandle): Promise<JobObservation> {
  for (let i = 0; i < 3000; i++) {
    const observation = await backend.status(handle);
    if (observation.phase !== 'Running' && observation.phase !== 'Pending') return observation;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`job ${handle.ref} did not end`);
}
