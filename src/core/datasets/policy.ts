import type { ErrorDetail } from '../errors';
import type { ApprovalPolicy, Caller, DatasetRecord, LeasePolicy, ResultsPolicy } from '../model';

/** Longest lease a dataset allows when its owner names no maximum: one day, or the default if longer. */
const DEFAULT_MAX_SECONDS = 86_400;

export interface PolicyInput {
  leaseTtlSeconds?: number | undefined;
  maxLeaseTtlSeconds?: number | undefined;
  approval?: ApprovalPolicy | undefined;
  results?: ResultsPolicy | undefined;
  /** null removes the limit. */
  maxResultBytes?: number | null | undefined;
}

/** A complete policy from what the owner gave, over `base` (defaults or the current policy). */
export function resolvePolicy(
  input: PolicyInput | undefined,
  base: LeasePolicy | { defaultTtlSeconds: number },
): { policy: LeasePolicy; problems: ErrorDetail[] } {
  const current: LeasePolicy =
    'defaultTtlSeconds' in base ? { leaseTtlSeconds: base.defaultTtlSeconds, maxLeaseTtlSeconds: Math.max(base.defaultTtlSeconds, DEFAULT_MAX_SECONDS) } : base;
  const leaseTtlSeconds = input?.leaseTtlSeconds ?? current.leaseTtlSeconds;
  // A new dataset's default maximum stretches to the lease length asked for; an existing
  // dataset's maximum was the owner's choice and only changes when named.
  const maxLeaseTtlSeconds =
    input?.maxLeaseTtlSeconds ?? ('defaultTtlSeconds' in base ? Math.max(current.maxLeaseTtlSeconds, leaseTtlSeconds) : current.maxLeaseTtlSeconds);
  const problems: ErrorDetail[] =
    leaseTtlSeconds > maxLeaseTtlSeconds ? [{ path: 'policy.leaseTtlSeconds', message: `must not exceed maxLeaseTtlSeconds (${maxLeaseTtlSeconds})` }] : [];
  // Recorded explicitly on every write, so a policy on the ledger says what it means.
  const approval = input?.approval ?? approvalOf(current);
  const results = input?.results ?? resultsOf(current);
  const maxResultBytes = input?.maxResultBytes === null ? undefined : (input?.maxResultBytes ?? current.maxResultBytes);
  return { policy: { leaseTtlSeconds, maxLeaseTtlSeconds, approval, results, ...(maxResultBytes === undefined ? {} : { maxResultBytes }) }, problems };
}

/** The lease length to ask the ledger for, or the problem with the one requested. */
export function leaseTtl(requested: number | undefined, policy: LeasePolicy): { ttlSeconds: number; problems: ErrorDetail[] } {
  const ttlSeconds = requested ?? policy.leaseTtlSeconds;
  const problems: ErrorDetail[] =
    ttlSeconds > policy.maxLeaseTtlSeconds
      ? [{ path: 'ttlSeconds', message: `must not exceed the dataset's maxLeaseTtlSeconds (${policy.maxLeaseTtlSeconds})` }]
      : [];
  return { ttlSeconds, problems };
}

/** Whether the caller's run on the dataset needs its owner's approval: the same rule the
 * chaincode applies (chaincode/src/approvals.ts approvalRequired), used here only to say
 * up front that a run will wait. A policy without the field reads as `required`. */
export function needsApproval(dataset: Pick<DatasetRecord, 'owner' | 'policy'>, caller: Caller): boolean {
  return approvalOf(dataset.policy) === 'required' && dataset.owner.org !== caller.org;
}

/** A dataset's approval policy; one recorded before the field existed reads as `required`. */
export function approvalOf(policy: Pick<LeasePolicy, 'approval'>): ApprovalPolicy {
  return policy.approval ?? 'required';
}

/** A dataset's results policy; one recorded before the field existed reads as `release`. */
export function resultsOf(policy: Pick<LeasePolicy, 'results'>): ResultsPolicy {
  return policy.results ?? 'release';
}

/** Whether the dataset keeps a run's outputs from its requester until the ledger says
 * otherwise: the owner reviews them (another organization's run: the chaincode's rule,
 * chaincode/src/results.ts reviewsResults) or limits their size. */
export function withholdsResults(dataset: Pick<DatasetRecord, 'owner' | 'policy'>, caller: Caller): boolean {
  return (resultsOf(dataset.policy) === 'review' && dataset.owner.org !== caller.org) || dataset.policy.maxResultBytes !== undefined;
}
