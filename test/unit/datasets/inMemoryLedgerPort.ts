import { LedgerflowError } from '../../../src/core/errors';
import { mspIdFor } from '../../../src/core/names';
import type { Caller, DatasetRecord, LeaseRecord } from '../../../src/core/model';
import type { HistoryEntry, Ledger, LedgerSession } from '../../../src/ports/ledger';

/** An in-memory stand-in for the Ledger port, for use-case unit tests: the chaincode's rules
 * (owner from identity, one lease holder, expiry by time) in a few lines. The contract suite
 * (test/contract/ledger.test.ts) runs it beside FabricLedger so the two cannot drift. */
export class InMemoryLedgerPort implements Ledger {
  readonly datasets = new Map<string, DatasetRecord>();
  readonly history = new Map<string, HistoryEntry[]>();
  failRegister = false;
  private tx = 0;
  constructor(private readonly now: () => Date) {}

  as(caller: Caller): LedgerSession {
    const who = { ...caller, mspId: mspIdFor(caller.org) };
    const ts = () => this.now().toISOString();
    const record = (id: string, action: HistoryEntry['action'], value?: DatasetRecord) => {
      const list = this.history.get(id) ?? [];
      list.push({ txId: `tx${++this.tx}`, timestamp: ts(), action, by: who, ...(value === undefined ? {} : { value: structuredClone(value) }) });
      this.history.set(id, list);
    };
    const live = (id: string) => {
      const d = this.datasets.get(id);
      if (d === undefined) throw new LedgerflowError('not_found', 'no such dataset');
      if (d.deletedAt !== undefined) throw new LedgerflowError('gone', 'the dataset was deleted');
      return d;
    };
    const owned = (id: string) => {
      const d = live(id);
      if (d.owner.org !== caller.org) throw new LedgerflowError('forbidden', 'not the owner');
      return d;
    };
    const current = (d: DatasetRecord) => d.lease !== undefined && Date.parse(d.lease.expiresAt) > this.now().getTime();
    return {
      registerDataset: async (input) => {
        if (this.failRegister) throw new LedgerflowError('unavailable', 'ledger down');
        if (this.datasets.has(input.id)) throw new LedgerflowError('conflict', 'the dataset exists');
        const d: DatasetRecord = { ...input, owner: who, version: 1, createdAt: ts(), updatedAt: ts() };
        this.datasets.set(input.id, d);
        record(input.id, 'registered', d);
        return structuredClone(d);
      },
      updateDataset: async (id, patch) => {
        const d = owned(id);
        Object.assign(d, patch, { updatedAt: ts() });
        record(id, 'updated', d);
        return structuredClone(d);
      },
      updateDatasetContent: async (id, content) => {
        const d = owned(id);
        if (content.version !== (d.version ?? 1) + 1) throw new LedgerflowError('conflict', 'not the next version');
        Object.assign(d, content, { updatedAt: ts() });
        record(id, 'dataset-updated', d);
        return structuredClone(d);
      },
      deleteDataset: async (id) => {
        const d = owned(id);
        d.deletedAt = ts();
        d.sealedLocation = '';
        delete d.lease;
        record(id, 'deleted');
        return structuredClone(d);
      },
      getDataset: async (id) => structuredClone(this.datasets.get(id)),
      listDatasets: async (q) => ({
        items: [...this.datasets.values()]
          .filter((d) => (q.includeDeleted || d.deletedAt === undefined) && (q.owner === undefined || d.owner.org === q.owner))
          .filter((d) => q.state === undefined || (q.state === 'leased') === current(d))
          .slice(0, q.pageSize)
          .map((d) => structuredClone(d)),
      }),
      takeLease: async (id, ttl) => {
        const d = live(id);
        if (ttl > d.policy.maxLeaseTtlSeconds) throw new LedgerflowError('validation_failed', 'ttlSeconds is over the maximum');
        if (current(d))
          throw new LedgerflowError('lease_held', 'lease held', {
            data: { holder: { user: d.lease!.holder.user, org: d.lease!.holder.org }, expiresAt: d.lease!.expiresAt },
          });
        d.lease = { datasetId: id, holder: who, takenAt: ts(), expiresAt: new Date(this.now().getTime() + ttl * 1000).toISOString() };
        record(id, 'leased', d);
        return structuredClone(d.lease);
      },
      releaseLease: async (id) => {
        const d = live(id);
        if (!current(d)) throw new LedgerflowError('not_found', 'no lease on the dataset');
        const holder = d.lease!.holder;
        if (!(holder.org === caller.org && holder.user === caller.user) && d.owner.org !== caller.org)
          throw new LedgerflowError('forbidden', 'not holder or owner');
        delete d.lease;
        record(id, 'released', d);
      },
      getLease: async (id) => structuredClone(this.datasets.get(id)?.lease),
      expireLeases: async () => {
        const out: LeaseRecord[] = [];
        for (const d of this.datasets.values()) {
          if (d.lease !== undefined && !current(d)) {
            out.push(d.lease);
            delete d.lease;
            record(d.id, 'expired', d);
          }
        }
        return out;
      },
      recordWorkflowLaunched: async () => {
        throw new Error('not in this fake');
      },
      recordWorkflowFinished: async () => undefined,
      recordWorkflowCleanedUp: async () => undefined,
      datasetHistory: async (id) => structuredClone(this.history.get(id) ?? []),
      requestApprovals: async () => [],
      decideApprovals: async () => [],
      workflowApprovals: async () => [],
      listApprovals: async () => [],
      getWorkflow: async () => undefined,
      decideResults: async () => {
        throw new Error('not in this fake');
      },
      workflowTrail: async () => [],
      transaction: async () => undefined,
    };
  }
  async *events() {}
  async close() {}
}
