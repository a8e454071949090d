import * as k8s from '@kubernetes/client-node';
import type { Settings } from '../../../config/settings';
import { LedgerflowError } from '../../../core/errors';
import type { Logger } from '../../../observability/logger';
import type { DagComputeBackend, JobHandle, JobLaunch, JobObservation, ResolvedVolume, RunLaunch } from '../../../ports/compute';
import { ARGO_GROUP, ARGO_PLURAL, ARGO_VERSION, argoWorkflow, type ArgoNodeStatus, type ArgoRun, type ArgoWorkflow } from '../manifests/argoWorkflow';
import { callbackSecret } from '../manifests/job';
import { names } from '../manifests/names';
import { clusterOptions } from '../manifests/options';
import { ignoreNotFound, loadKubeConfig, mergePatch } from '../kubernetes/client';
import { ClusterBackend, type ClusterBackendOptions } from '../kubernetes/clusterBackend';
import { withCompensation } from '../kubernetes/compensation';
import { iso } from '../kubernetes/observe';

export type ArgoBackendOptions = ClusterBackendOptions;

const WORKFLOW_LABEL = 'workflows.argoproj.io/workflow';
const NODE_NAME_ANNOTATION = 'workflows.argoproj.io/node-name';
const FINISHED = new Set(['Succeeded', 'Failed', 'Error']);

/** A handle's ref is `<Workflow name>/<task name>`: jobs are nodes of a Workflow. */
const ref = (workflow: string, task: string) => `${workflow}/${task}`;
function parseRef(handle: JobHandle): { workflow: string; task: string } {
  const [workflow, task] = handle.ref.split('/');
  if (workflow === undefined || task === undefined) throw new LedgerflowError('bad_request', `not an Argo job handle: ${handle.ref}`);
  return { workflow, task };
}

/**
 * Jobs as nodes of Argo Workflows. How a DAG engine meets the per-job port:
 *
 * - `launchRun` (the DagComputeBackend capability) submits the whole run as ONE Workflow
 *   whose DAG mirrors the spec; each job is a task, and each handle names its node. Argo
 *   then starts jobs as their dependencies succeed; each task's exit hook reports to that
 *   job's callback, so the orchestrator waits for the same per-job events as with any
 *   backend, and `status`/`logs`/`cancel` work per node. Trade-off: the orchestrator's
 *   per-job lease re-check happens once, at submission; the run's deadline bounds it.
 * - `launch` (the plain per-job port, and every retry: Argo cannot re-run one node of a
 *   finished Workflow) submits a one-task Workflow for that attempt, built by the same
 *   function, so an orchestrator that knows nothing of DAG engines still works unchanged.
 *
 * Cancel stops the node's whole Workflow (`spec.shutdown: Terminate`): a run's jobs are
 * canceled together anyway. Cleanup deletes the run's Workflows and every object it made.
 */
export class ArgoWorkflowsBackend extends ClusterBackend<ArgoBackendOptions> implements DagComputeBackend {
  readonly kind = 'argo' as const;
  private readonly custom: k8s.CustomObjectsApi;

  constructor(options: ArgoBackendOptions) {
    super(options);
    this.custom = options.kubeConfig.makeApiClient(k8s.CustomObjectsApi);
  }

  static fromSettings(s: Settings, log: Logger): ArgoWorkflowsBackend {
    return new ArgoWorkflowsBackend({ kubeConfig: loadKubeConfig({ kubeconfig: s.K8S_KUBECONFIG, context: s.K8S_CONTEXT }), cluster: clusterOptions(s), log });
  }

  async launch(job: JobLaunch, volumes: ResolvedVolume[]): Promise<JobHandle> {
    const name = names.job(job.workflowId, job.jobName, job.attempt);
    await this.submit({ name, workflowId: job.workflowId, jobs: [job], edges: [], timeoutSeconds: job.timeoutSeconds }, volumes);
    return { backend: this.kind, ref: ref(name, names.task(job.jobIndex)) };
  }

  async launchRun(run: RunLaunch, volumes: ResolvedVolume[]): Promise<JobHandle[]> {
    const name = names.runWorkflow(run.workflowId);
    await this.submit({ name, workflowId: run.workflowId, jobs: run.jobs, edges: run.edges, timeoutSeconds: run.timeoutSeconds }, volumes);
    return run.jobs.map((j) => ({ backend: this.kind, ref: ref(name, names.task(j.jobIndex)) }));
  }

  private async submit(run: ArgoRun, volumes: ResolvedVolume[]): Promise<void> {
    const namespace = this.options.cluster.namespace;
    await withCompensation(this.options.log, async (stack) => {
      const subPaths = await this.objects.ensureDatasets(stack, run.workflowId, run.jobs, volumes);
      for (const job of run.jobs) await this.objects.createSecret(stack, callbackSecret(this.options.cluster, job));
      const body = argoWorkflow(this.options.cluster, run, subPaths);
      const target = { group: ARGO_GROUP, version: ARGO_VERSION, namespace, plural: ARGO_PLURAL };
      await this.objects.createOnce(stack, `workflow ${run.name}`, () => this.custom.createNamespacedCustomObject({ ...target, body }));
      this.options.log.info({ workflowId: run.workflowId, ref: run.name, jobs: run.jobs.length }, 'argo workflow submitted');
    });
  }

  private async workflow(name: string): Promise<ArgoWorkflow | undefined> {
    const namespace = this.options.cluster.namespace;
    return (await ignoreNotFound(this.custom.getNamespacedCustomObject({ group: ARGO_GROUP, version: ARGO_VERSION, namespace, plural: ARGO_PLURAL, name }))) as
      ArgoWorkflow | undefined;
  }

  async status(handle: JobHandle): Promise<JobObservation> {
    const { workflow, task } = parseRef(handle);
    const wf = await this.workflow(workflow);
    if (wf === undefined) return { phase: 'Unknown', exitCode: null, message: 'the Workflow no longer exists' };
    const node = taskNode(wf, workflow, task);
    const wfPhase = wf.status?.phase;
    if (node === undefined) {
      // Never started: still waiting, or the Workflow ended first (upstream failure, timeout, shutdown).
      if (wfPhase !== undefined && FINISHED.has(wfPhase)) {
        return { phase: 'Failed', exitCode: null, message: `not run: the Workflow ended ${wfPhase}${wf.status?.message ? ` (${wf.status.message})` : ''}` };
      }
      return { phase: 'Pending', exitCode: null };
    }
    return observeNode(node);
  }

  async cancel(handle: JobHandle): Promise<void> {
    const { workflow } = parseRef(handle);
    const namespace = this.options.cluster.namespace;
    await ignoreNotFound(
      this.custom.patchNamespacedCustomObject(
        { group: ARGO_GROUP, version: ARGO_VERSION, namespace, plural: ARGO_PLURAL, name: workflow, body: { spec: { shutdown: 'Terminate' } } },
        mergePatch,
      ),
    );
  }

  /** The pod of the job's node in the run's Workflow. */
  protected jobPod(handle: JobHandle): Promise<k8s.V1Pod | undefined> {
    const { workflow, task } = parseRef(handle);
    const nodeName = `${workflow}.${task}`;
    return this.objects.findPod(`${WORKFLOW_LABEL}=${workflow}`, (p) => p.metadata?.annotations?.[NODE_NAME_ANNOTATION] === nodeName);
  }

  protected deleteRunObjects(namespace: string, labelSelector: string): Promise<unknown> {
    return this.custom.deleteCollectionNamespacedCustomObject({
      group: ARGO_GROUP,
      version: ARGO_VERSION,
      namespace,
      plural: ARGO_PLURAL,
      labelSelector,
      propagationPolicy: 'Background',
    });
  }
}

/** The node Argo names `<workflow>.<task>` (exit-hook nodes have longer names). */
function taskNode(wf: ArgoWorkflow, workflow: string, task: string): ArgoNodeStatus | undefined {
  return Object.values(wf.status?.nodes ?? {}).find((n) => n.name === `${workflow}.${task}`);
}

function observeNode(node: ArgoNodeStatus): JobObservation {
  const phase: JobObservation['phase'] =
    node.phase === 'Succeeded'
      ? 'Succeeded'
      : node.phase === 'Failed' || node.phase === 'Error' || node.phase === 'Omitted' || node.phase === 'Skipped'
        ? 'Failed'
        : node.phase === 'Running'
          ? 'Running'
          : 'Pending';
  const code = node.outputs?.exitCode;
  const exitCode = code !== undefined && /^-?\d+$/.test(code) ? Number(code) : null;
  const observation: JobObservation = { phase, exitCode: phase === 'Succeeded' || phase === 'Failed' ? exitCode : null };
  const startedAt = iso(node.startedAt);
  const endedAt = iso(node.finishedAt);
  if (startedAt !== undefined) observation.startedAt = startedAt;
  if (endedAt !== undefined && (phase === 'Succeeded' || phase === 'Failed')) observation.endedAt = endedAt;
  if (phase === 'Failed' && node.message !== undefined) observation.message = node.message;
  return observation;
}
