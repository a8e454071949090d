import type { ChaincodeStub } from 'fabric-shim-api';

/**
 * World-state layout.
 * - Datasets use simple keys `dataset:<id>`: listing pages through them with plain range
 *   queries that start after a cursor key, which Fabric allows only outside the composite
 *   key namespace. Ids are `[A-Za-z0-9_-]`, so the range [`dataset:`, `dataset;`) holds
 *   exactly the datasets, in id order.
 * - Leases, workflows and per-dataset audit entries use composite keys (`\u0000` separated):
 *   a plain range query never returns them, and each kind can be scanned by its type.
 */
export const DATASET_PREFIX = 'dataset:';
export const DATASET_RANGE_END = 'dataset;';

export const datasetKey = (id: string): string => DATASET_PREFIX + id;
export const datasetIdOfKey = (key: string): string => key.slice(DATASET_PREFIX.length);

export const LEASE_TYPE = 'lease';
export const WORKFLOW_TYPE = 'workflow';
export const AUDIT_TYPE = 'audit';

export const leaseKey = (stub: ChaincodeStub, datasetId: string): string => stub.createCompositeKey(LEASE_TYPE, [datasetId]);
export const workflowKey = (stub: ChaincodeStub, workflowId: string): string => stub.createCompositeKey(WORKFLOW_TYPE, [workflowId]);
export const auditKey = (stub: ChaincodeStub, datasetId: string): string => stub.createCompositeKey(AUDIT_TYPE, [datasetId]);

export const APPROVAL_TYPE = 'approval';
export const APPROVAL_GRANT_TYPE = 'approval-grant';

/** Types whose keys belong to one run: the workflow id is the key's first attribute. A
 * record kept per run goes under one of these (e.g. `workflow` [id, 'outputs']) or its type
 * is added here, and the run's receipt (trail.ts) lists its history without knowing its shape. */
export const RUN_SCOPED_TYPES: readonly string[] = [WORKFLOW_TYPE, APPROVAL_TYPE];

export const approvalKey = (stub: ChaincodeStub, workflowId: string, datasetId: string): string =>
  stub.createCompositeKey(APPROVAL_TYPE, [workflowId, datasetId]);
/** A reusable approval covers one dataset, holder, lease and pair of hashes: all in the key,
 * so the launch check is one read. */
export const approvalGrantKey = (
  stub: ChaincodeStub,
  g: { datasetId: string; holder: { mspId: string; user: string }; leaseTakenAt: string; specHash: string; filesHash: string },
): string => stub.createCompositeKey(APPROVAL_GRANT_TYPE, [g.datasetId, g.holder.mspId, g.holder.user, g.leaseTakenAt, g.specHash, g.filesHash]);
