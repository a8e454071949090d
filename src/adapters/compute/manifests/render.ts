import type { KubernetesObject } from '@kubernetes/client-node';
import { LedgerflowError } from '../../../core/errors';
import type { JobLaunch, ResolvedVolume, RunLaunch } from '../../../ports/compute';
import { argoWorkflow } from './argoWorkflow';
import { CREDENTIAL_PLACEHOLDER, datasetObjects, type DatasetObjects } from './datasetVolumes';
import { batchJob, callbackSecret } from './job';
import { names } from './names';
import type { ClusterOptions } from './options';
import { codeConfigMap, workspaceClaim } from './workspace';

/** Every dataset of a run once (volumes may repeat across jobs), with the subPath map pods need. */
export function runDatasets(opts: ClusterOptions, workflowId: string, jobs: readonly JobLaunch[], volumes: readonly ResolvedVolume[], forDisplay = false) {
  // A mount without its volume would leave the pod Pending forever on a missing claim.
  const resolved = new Set(volumes.map((v) => v.datasetId));
  const missing = [...new Set(jobs.flatMap((j) => j.volumes.map((v) => v.datasetId)))].filter((id) => !resolved.has(id));
  if (missing.length > 0) throw new LedgerflowError('internal', `no resolved volume for dataset(s) ${missing.join(', ')}`);
  const unique = [...new Map(volumes.map((v) => [v.datasetId, v])).values()].sort((a, b) => a.datasetId.localeCompare(b.datasetId));
  const objects: DatasetObjects[] = unique.map((v) => datasetObjects(opts, workflowId, v, forDisplay));
  const subPaths = new Map<string, string>();
  unique.forEach((v, i) => {
    const sub = objects[i]!.subPath;
    if (sub !== undefined) subPaths.set(v.datasetId, sub);
  });
  return { objects, subPaths };
}

export interface RenderInput {
  run: RunLaunch;
  files: Record<string, string>;
  /** Locations of the run's datasets; credentials, if given, are not printed. */
  volumes: ResolvedVolume[];
  options: ClusterOptions;
}

/**
 * The objects a run creates, for `ledgerflow render` to print as YAML: for `k8s` the Job of
 * each job's first attempt (the orchestrator creates them one by one as the DAG unfolds),
 * for `argo` the one Workflow. Credentials and callback tokens are replaced by placeholders:
 * rendered manifests are for reading, and the real ones are created only at launch.
 */
export function renderManifests(target: 'k8s' | 'argo', input: RenderInput): KubernetesObject[] {
  const { run, options } = input;
  const jobs = run.jobs.map((j) => ({ ...j, callback: { url: j.callback.url, token: CREDENTIAL_PLACEHOLDER } }));
  const { objects, subPaths } = runDatasets(options, run.workflowId, jobs, input.volumes, true);
  const common: KubernetesObject[] = [
    codeConfigMap(options, run.workflowId, input.files),
    workspaceClaim(options, run.workflowId),
    ...objects.flatMap((d) => [...(d.secret === undefined ? [] : [d.secret]), d.volume, d.claim]),
    ...jobs.map((j) => callbackSecret(options, j)),
  ];
  if (target === 'k8s') return [...common, ...jobs.map((j) => batchJob(options, j, subPaths))];
  const workflow = argoWorkflow(
    options,
    { name: names.runWorkflow(run.workflowId), workflowId: run.workflowId, jobs, edges: run.edges, timeoutSeconds: run.timeoutSeconds },
    subPaths,
  );
  return [...common, workflow];
}
