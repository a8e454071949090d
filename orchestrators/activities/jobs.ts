import type { Caller } from '../../src/core/model';
import { callbackToken } from '../../src/core/workflow/callbackToken';
import { jobTimeLimit } from '../../src/core/workflow/leases';
import type { JobSpec } from '../../src/core/workflow/spec';
import type { JobHandle, JobLaunch, JobObservation, ResolvedVolume } from '../../src/ports/compute';
import { defineActivity } from './define';
import { leaseWindow } from './leases';

export interface LaunchJobInput {
  workflowId: string;
  caller: Caller;
  job: JobSpec;
  image: string;
  timeoutSeconds: number;
  attempt: number;
  /** The versions the launch record names (JobInput.datasetVersions). */
  datasetVersions?: Record<string, number>;
}

/** Launched (the handle), or not, because the caller no longer holds these datasets. */
export type LaunchJobResult = { handle: JobHandle } | { leasesMissing: string[] };

/**
 * Checks the caller's leases on the job's datasets (in this activity rather than one of its
 * own: one engine step less per job), resolves the job's volumes (sealed location opened
 * with the owner's key, credential from the key store), derives the job's callback token,
 * and launches. The credential and the token go to the backend only: the result, which
 * enters history, is the handle alone.
 */
export const launchJob = defineActivity<LaunchJobInput, LaunchJobResult>(
  'launchJob',
  async ({ workflowId, caller, job, image, timeoutSeconds, attempt, datasetVersions }, deps) => {
    const leases = await leaseWindow(
      deps,
      caller,
      job.volumes.map((v) => v.id),
    );
    if (leases.missing.length > 0) return { leasesMissing: leases.missing };
    const volumes: ResolvedVolume[] = await Promise.all(
      job.volumes.map(async (v) => {
        const { location, credential } = await deps.locateDataset(v.id, datasetVersions?.[v.id]);
        const resolved: ResolvedVolume = { datasetId: v.id, name: v.name, mountPath: v.path, location };
        if (credential !== undefined) resolved.credential = credential;
        return resolved;
      }),
    );
    const key = await deps.callbackKey();
    const launch: JobLaunch = {
      workflowId,
      jobName: job.name,
      jobIndex: job.index,
      attempt,
      command: job.command,
      image,
      env: job.env,
      volumes: volumes.map(({ datasetId, name, mountPath }) => ({ datasetId, name, mountPath })),
      resources: job.resources,
      // The backend's own limit also ends the job soon after its lease, should no host be up then.
      timeoutSeconds: jobTimeLimit(timeoutSeconds, leases.endsAt, deps.now()),
      callback: { url: deps.callbackUrl(), token: callbackToken(key, workflowId, job.name, attempt) },
    };
    const handle = await deps.compute.launch(launch, volumes);
    deps.log.info({ workflowId, jobName: job.name, attempt, ref: handle.ref }, 'job launched');
    return { handle };
  },
);

export const jobStatus = defineActivity<{ handle: JobHandle }, JobObservation>('jobStatus', async ({ handle }, deps) => deps.compute.status(handle));

export const cancelJob = defineActivity<{ handle: JobHandle }, null>('cancelJob', async ({ handle }, deps) => {
  await deps.compute.cancel(handle);
  return null;
});
