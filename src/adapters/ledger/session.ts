import type { z } from 'zod';
import {
  approvalRecordSchema,
  datasetRecordSchema,
  historyEntrySchema,
  leaseRecordSchema,
  pageSchema,
  trailEntrySchema,
  workflowRecordSchema,
} from '../../api/ledgerRecords';
import type { ApprovalRecord, ApprovalState, DatasetRecord, LeaseRecord, Page, WorkflowLedgerRecord } from '../../core/model';
import type {
  ApprovalDecision,
  CommittedTransaction,
  ApprovalRequest,
  DatasetContent,
  DatasetPatch,
  DatasetQuery,
  HistoryEntry,
  LedgerSession,
  NewDataset,
  ResultsDecision,
  TrailEntry,
  WorkflowFinish,
  WorkflowLaunch,
} from '../../ports/ledger';
import { LedgerflowError } from '../../core/errors';
import { decodeCommittedTransaction } from './committedTransaction';
import { LedgerResultError } from './errors';

/**
 * The ledgerflow contract's transactions behind the LedgerSession port: string arguments,
 * JSON for structured ones, JSON results, each parsed with its schema from the ledger's
 * contract module (src/api/ledgerRecords.ts) by `#evaluate` / `#submit`. Identity is the transport's (the
 * session's certificate), never an argument.
 */
export interface ContractCalls {
  evaluate(name: string, args: string[]): Promise<string>;
  submit(name: string, args: string[]): Promise<string>;
  /** Evaluates a function of the query system chaincode (qscc) on the channel; undefined
   * when the ledger has no such transaction or block. */
  queryLedger(name: 'GetTransactionByID' | 'GetBlockByTxID', arg: string): Promise<Uint8Array | undefined>;
}

export class FabricLedgerSession implements LedgerSession {
  readonly #calls: ContractCalls;

  constructor(calls: ContractCalls) {
    this.#calls = calls;
  }

  /** Evaluates `name` and parses its answer with `schema` (src/api/ledgerRecords.ts). */
  async #evaluate<T>(schema: z.ZodType<T>, name: string, args: string[]): Promise<T> {
    return result(schema, name, await this.#calls.evaluate(name, args));
  }

  /** Submits `name`, waits for its commit, and parses its answer with `schema`. */
  async #submit<T>(schema: z.ZodType<T>, name: string, args: string[]): Promise<T> {
    return result(schema, name, await this.#calls.submit(name, args));
  }

  async registerDataset(input: NewDataset): Promise<DatasetRecord> {
    return this.#submit(datasetRecordSchema, 'RegisterDataset', [JSON.stringify(input)]);
  }

  async updateDataset(id: string, patch: DatasetPatch): Promise<DatasetRecord> {
    return this.#submit(datasetRecordSchema, 'UpdateDataset', [id, JSON.stringify(patch)]);
  }

  async updateDatasetContent(id: string, content: DatasetContent): Promise<DatasetRecord> {
    return this.#submit(datasetRecordSchema, 'UpdateDatasetContent', [id, JSON.stringify(content)]);
  }

  async deleteDataset(id: string): Promise<DatasetRecord> {
    return this.#submit(datasetRecordSchema, 'DeleteDataset', [id]);
  }

  async getDataset(id: string): Promise<DatasetRecord | undefined> {
    try {
      return await this.#evaluate(datasetRecordSchema, 'ReadDataset', [id]);
    } catch (err) {
      if (err instanceof LedgerflowError && err.code === 'not_found') return undefined;
      throw err;
    }
  }

  async listDatasets(query: DatasetQuery): Promise<Page<DatasetRecord>> {
    return this.#evaluate(pageSchema(datasetRecordSchema), 'ListDatasets', [JSON.stringify(query)]);
  }

  async takeLease(datasetId: string, ttlSeconds: number): Promise<LeaseRecord> {
    return this.#submit(leaseRecordSchema, 'TakeLease', [datasetId, String(ttlSeconds)]);
  }

  async releaseLease(datasetId: string): Promise<void> {
    await this.#calls.submit('ReleaseLease', [datasetId]);
  }

  async getLease(datasetId: string): Promise<LeaseRecord | undefined> {
    const text = await this.#calls.evaluate('ReadLease', [datasetId]);
    return text === '' ? undefined : result(leaseRecordSchema, 'ReadLease', text);
  }

  async expireLeases(): Promise<LeaseRecord[]> {
    return this.#submit(leaseRecordSchema.array(), 'ExpireLeases', []);
  }

  async recordWorkflowLaunched(launch: WorkflowLaunch): Promise<WorkflowLedgerRecord> {
    return this.#submit(workflowRecordSchema, 'RecordWorkflowLaunched', [JSON.stringify(launch)]);
  }

  async recordWorkflowFinished(finish: WorkflowFinish): Promise<void> {
    await this.#calls.submit('RecordWorkflowFinished', [JSON.stringify(finish)]);
  }

  async recordWorkflowCleanedUp(workflowId: string): Promise<void> {
    await this.#calls.submit('RecordWorkflowCleanedUp', [workflowId]);
  }

  async getWorkflow(workflowId: string): Promise<WorkflowLedgerRecord | undefined> {
    try {
      return await this.#evaluate(workflowRecordSchema, 'ReadWorkflow', [workflowId]);
    } catch (err) {
      if (err instanceof LedgerflowError && err.code === 'not_found') return undefined;
      throw err;
    }
  }

  async decideResults(workflowId: string, decision: ResultsDecision): Promise<WorkflowLedgerRecord> {
    return this.#submit(workflowRecordSchema, 'DecideResults', [workflowId, JSON.stringify(decision)]);
  }

  async datasetHistory(datasetId: string): Promise<HistoryEntry[]> {
    return this.#evaluate(historyEntrySchema.array(), 'DatasetHistory', [datasetId]);
  }

  async requestApprovals(request: ApprovalRequest): Promise<ApprovalRecord[]> {
    return this.#submit(approvalRecordSchema.array(), 'RequestApprovals', [JSON.stringify(request)]);
  }

  async decideApprovals(workflowId: string, decision: ApprovalDecision): Promise<ApprovalRecord[]> {
    return this.#submit(approvalRecordSchema.array(), 'DecideApprovals', [workflowId, JSON.stringify(decision)]);
  }

  async workflowApprovals(workflowId: string): Promise<ApprovalRecord[]> {
    return this.#evaluate(approvalRecordSchema.array(), 'ReadApprovals', [workflowId]);
  }

  async listApprovals(query: { state?: ApprovalState }): Promise<ApprovalRecord[]> {
    return this.#evaluate(approvalRecordSchema.array(), 'ListApprovals', [JSON.stringify(query)]);
  }

  async workflowTrail(workflowId: string): Promise<TrailEntry[]> {
    return this.#evaluate(trailEntrySchema.array(), 'WorkflowTrail', [workflowId]);
  }

  async transaction(txId: string): Promise<CommittedTransaction | undefined> {
    const processed = await this.#calls.queryLedger('GetTransactionByID', txId);
    const block = processed === undefined ? undefined : await this.#calls.queryLedger('GetBlockByTxID', txId);
    return processed === undefined || block === undefined ? undefined : decodeCommittedTransaction(txId, processed, block);
  }
}

/** A transaction's answer as the type its schema describes, or a LedgerResultError naming
 * the transaction and what is wrong (paths only: a record may hold sealed data). */
function result<T>(schema: z.ZodType<T>, transaction: string, text: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new LedgerResultError(transaction, [{ path: '', message: 'is not JSON' }], { cause: err });
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw new LedgerResultError(
    transaction,
    parsed.error.issues.map((issue) => ({ path: issue.path.map(String).join('.'), message: issue.message })),
  );
}
