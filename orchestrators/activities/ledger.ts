import type { ApprovalRecord, Caller, ResultsState } from '../../src/core/model';
import type { WorkflowFinish } from '../../src/ports/ledger';
import { specHash } from '../../src/core/workflow/hash';
import { datasetIdsOf, imageOf, type WorkflowSpec } from '../../src/core/workflow/spec';
import { defineActivity } from './define';

/** Launch and finish of a run, on the ledger, as the submitter (the chaincode takes the
 * identity from the session, so the record names who ran what). The spec hash is computed
 * here from the spec the jobs will run, never taken from an input, so the chaincode's
 * approval check judges what runs. */
export interface RecordLaunchInput {
  caller: Caller;
  workflowId: string;
  spec: WorkflowSpec;
  filesHash: string;
}
export interface RecordLaunchedInput extends RecordLaunchInput {
  /** For the images the launch record names (cluster backends; the local sandbox runs no image). */
  defaultImage: string;
}
export interface RequestApprovalsInput extends RecordLaunchInput {
  datasetIds: string[];
}
export interface RecordFinishInput extends WorkflowFinish {
  caller: Caller;
}

/** Answers the dataset versions the launch record names: what the run's jobs mount. */
export const recordWorkflowLaunched = defineActivity<RecordLaunchedInput, { datasetVersions: Record<string, number> }>(
  'recordWorkflowLaunched',
  async ({ caller, workflowId, spec, filesHash, defaultImage }, deps) => {
    const backend = deps.compute.kind;
    const images = backend === 'local' ? undefined : [...new Set(spec.jobs.map((job) => imageOf(spec, job, defaultImage)))].sort();
    // Idempotent on the ledger: a retry after a lost answer gets the stored record back.
    const record = await deps.ledger.as(caller).recordWorkflowLaunched({
      workflowId,
      datasetIds: datasetIdsOf(spec),
      specHash: specHash(spec),
      filesHash,
      backend,
      ...(images === undefined ? {} : { images }),
    });
    // The run index hears that the run runs (a finished status there stays final).
    await deps.runIndex.setStatus(workflowId, 'Running', deps.now());
    return { datasetVersions: Object.fromEntries((record.datasetVersions ?? []).map((v) => [v.datasetId, v.version])) };
  },
);

/** With the run's outputs; answers what the ledger made of them (released, pending
 * review, or rejected at once: over the size limit). */
export const recordWorkflowFinished = defineActivity<RecordFinishInput, { results?: ResultsState }>(
  'recordWorkflowFinished',
  async ({ caller, workflowId, status, jobs, outputs }, deps) => {
    const session = deps.ledger.as(caller);
    await session.recordWorkflowFinished({ workflowId, status, jobs, ...(outputs === undefined ? {} : { outputs }) });
    const results = (await session.getWorkflow(workflowId))?.results?.state;
    return results === undefined ? {} : { results };
  },
);

/** The owners' approval requests of a run; repeating it returns what is recorded. */
export const requestApprovals = defineActivity<RequestApprovalsInput, ApprovalRecord[]>(
  'requestApprovals',
  async ({ caller, workflowId, spec, filesHash, datasetIds }, deps) =>
    deps.ledger.as(caller).requestApprovals({ workflowId, datasetIds, specHash: specHash(spec), filesHash }),
);
