import type { Caller, DatasetRecord, LeaseRecord } from '../../../src/core/model';
import type { RunControl, RunRecord } from '../../../src/app/workflows/runControl';
import type { ComputeBackend, JobHandle, JobLaunch, JobObservation, ResolvedVolume } from '../../../src/ports/compute';
import type { Ledger, LedgerEvent, LedgerSession } from '../../../src/ports/ledger';
import { createLogger } from '../../../src/observability/logger';

export const silentLog = createLogger({ level: 'silent' });

/** An in-memory durable backend as the workflow API sees it. */
export class FakeRuns implements RunControl {
  readonly records = new Map<string, RunRecord>();
  readonly raised: { instanceId: string; eventName: string; data: unknown }[] = [];
  private clock = 0;

  async start(orchestrator: string, instanceId: string, input: unknown): Promise<void> {
    if (this.records.has(instanceId)) throw new Error('exists');
    const at = new Date(Date.UTC(2026, 0, 1, 0, 0, this.clock++)).toISOString();
    this.records.set(instanceId, { instanceId, name: orchestrator, runtimeStatus: 'Pending', createdAt: at, updatedAt: at, input, customStatus: null });
  }
  async get(instanceId: string): Promise<RunRecord | undefined> {
    return this.records.get(instanceId);
  }
  async list(runtimeStatus?: string[]): Promise<RunRecord[]> {
    // List answers carry no input, as the durable HTTP API's default.
    return [...this.records.values()].filter((r) => runtimeStatus === undefined || runtimeStatus.includes(r.runtimeStatus)).map((r) => ({ ...r, input: null }));
  }
  async raise(instanceId: string, eventName: string, data: unknown): Promise<void> {
    this.raised.push({ instanceId, eventName, data });
  }
  async purge(instanceId: string): Promise<number> {
    return this.records.delete(instanceId) ? 1 : 0;
  }
  set(instanceId: string, patch: Partial<RunRecord>): void {
    this.records.set(instanceId, { ...this.records.get(instanceId)!, ...patch });
  }
}

/** A ledger that knows leases (and records what the workflow side writes). */
export class FakeLedger implements Ledger {
  readonly leases = new Map<string, LeaseRecord>();
  /** Datasets the fake knows (owner and policy matter to submit); others read as unknown. */
  readonly datasets = new Map<string, DatasetRecord>();
  readonly released: string[] = [];
  readonly recorded: string[] = [];
  lease(datasetId: string, holder: Caller, expiresAt = '2099-01-01T00:00:00.000Z'): void {
    this.leases.set(datasetId, { datasetId, holder: { ...holder, mspId: `${holder.org}MSP` }, takenAt: '2026-01-01T00:00:00.000Z', expiresAt });
  }
  as(caller: Caller): LedgerSession {
    const unsupported = async (): Promise<never> => {
      throw new Error('not in this fake');
    };
    return {
      getLease: async (id: string) => this.leases.get(id),
      releaseLease: async (id: string) => {
        this.released.push(id);
        this.leases.delete(id);
      },
      recordWorkflowLaunched: async (l) => {
        this.recorded.push(`launched:${l.workflowId}:${caller.user}`);
        const launchedBy = { ...caller, mspId: `${caller.org}MSP` };
        return {
          ...l,
          launchedBy,
          launchedAt: '2026-01-01T00:00:00.000Z',
          status: 'Running',
          datasetVersions: l.datasetIds.map((datasetId) => ({ datasetId, version: 1 })),
        };
      },
      recordWorkflowFinished: async (f) => {
        this.recorded.push(`finished:${f.workflowId}:${f.status}`);
      },
      recordWorkflowCleanedUp: async (id: string) => {
        this.recorded.push(`cleaned:${id}`);
      },
      getDataset: async (id: string) => this.datasets.get(id),
      registerDataset: unsupported,
      updateDataset: unsupported,
      updateDatasetContent: unsupported,
      deleteDataset: unsupported,
      listDatasets: unsupported,
      takeLease: unsupported,
      expireLeases: unsupported,
      datasetHistory: unsupported,
      requestApprovals: unsupported,
      decideApprovals: unsupported,
      workflowApprovals: unsupported,
      listApprovals: unsupported,
      getWorkflow: async () => undefined,
      decideResults: unsupported,
      workflowTrail: unsupported,
      transaction: unsupported,
    };
  }
  /** Chaincode events "committed", in order; `events()` serves them from a checkpoint and
   * then, like the gateway's stream, waits for more until aborted. */
  readonly committed: LedgerEvent[] = [];
  async *events(options: { startBlock?: bigint; afterTransactionId?: string; signal?: AbortSignal }): AsyncIterable<LedgerEvent> {
    const start = options.startBlock ?? 0n;
    let skipping = options.afterTransactionId !== undefined;
    for (const event of this.committed) {
      if (event.blockNumber < start) continue;
      if (skipping && event.blockNumber === start) {
        if (event.txId === options.afterTransactionId) skipping = false;
        continue;
      }
      yield event;
    }
    const signal = options.signal;
    if (signal !== undefined && !signal.aborted) await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
  }
  async close(): Promise<void> {}
}

export class FakeCompute implements ComputeBackend {
  readonly kind = 'local' as const;
  readonly workspaces = new Map<string, Record<string, string>>();
  readonly launched: { job: JobLaunch; volumes: ResolvedVolume[] }[] = [];
  readonly cleaned: string[] = [];
  async prepareWorkspace(workflowId: string, files: Record<string, string>): Promise<void> {
    this.workspaces.set(workflowId, files);
  }
  async launch(job: JobLaunch, volumes: ResolvedVolume[]): Promise<JobHandle> {
    this.launched.push({ job, volumes });
    return { backend: 'local', ref: `${job.workflowId}/${job.jobName}-${job.attempt}` };
  }
  async status(): Promise<JobObservation> {
    return { phase: 'Running', exitCode: null };
  }
  async cancel(): Promise<void> {}
  async logs(handle: JobHandle): Promise<string> {
    return `log of ${handle.ref}\n`;
  }
  async readWorkspaceFile(workflowId: string, path: string): Promise<Buffer | undefined> {
    const content = this.workspaces.get(workflowId)?.[path];
    return content === undefined ? undefined : Buffer.from(content);
  }
  async cleanup(workflowId: string): Promise<void> {
    this.cleaned.push(workflowId);
  }
}
