import type { ApprovalRecord, ApprovalState, DatasetRecord, LeaseRecord, Page, WorkflowLedgerRecord } from '../../core/model';
import type {
  ApprovalDecision,
  ApprovalRequest,
  DatasetPatch,
  DatasetQuery,
  HistoryEntry,
  LedgerSession,
  NewDataset,
  ResultsDecision,
  WorkflowFinish,
  WorkflowLaunch,
} from '../../ports/ledger';
import { LedgerflowError } from '../../core/errors';

/**
 * The ledgerflow contract's transactions behind the LedgerSession port: string arguments,
 * JSON for structured ones, JSON results. Identity is the transport's (the session's
 * certificate), never an argument.
 */
export interface ContractCalls {
  evaluate(name: string, args: string[]): Promise<string>;
  submit(name: string, args: string[]): Promise<string>;
}

export class FabricLedgerSession implements LedgerSession {
  readonly #calls: ContractCalls;

  constructor(calls: ContractCalls) {
    this.#calls = calls;
  }

  async registerDataset(input: NewDataset): Promise<DatasetRecord> {
    return json(await this.#calls.submit('RegisterDataset', [JSON.stringify(input)]));
  }

  async updateDataset(id: string, patch: DatasetPatch): Promise<DatasetRecord> {
    return json(await this.#calls.submit('UpdateDataset', [id, JSON.stringify(patch)]));
  }

  async deleteDataset(id: string): Promise<DatasetRecord> {
    return json(await this.#calls.submit('DeleteDataset', [id]));
  }

  async getDataset(id: string): Promise<DatasetRecord | undefined> {
    try {
      return json(await this.#calls.evaluate('ReadDataset', [id]));
    } catch (err) {
      if (err instanceof LedgerflowError && err.code === 'not_found') return undefined;
      throw err;
    }
  }

  async listDatasets(query: DatasetQuery): Promise<Page<DatasetRecord>> {
    return json(await this.#calls.evaluate('ListDatasets', [JSON.stringify(query)]));
  }

  async takeLease(datasetId: string, ttlSeconds: number): Promise<LeaseRecord> {
    return json(await this.#calls.submit('TakeLease', [datasetId, String(ttlSeconds)]));
  }

  async releaseLease(datasetId: string): Promise<void> {
    await this.#calls.submit('ReleaseLease', [datasetId]);
  }

  async getLease(datasetId: string): Promise<LeaseRecord | undefined> {
    const text = await this.#calls.evaluate('ReadLease', [datasetId]);
    return text === '' ? undefined : json<LeaseRecord>(text);
  }

  async expireLeases(): Promise<LeaseRecord[]> {
    return json(await this.#calls.submit('ExpireLeases', []));
  }

  async recordWorkflowLaunched(launch: WorkflowLaunch): Promise<void> {
    await this.#calls.submit('RecordWorkflowLaunched', [JSON.stringify(launch)]);
  }

  async recordWorkflowFinished(finish: WorkflowFinish): Promise<void> {
    await this.#calls.submit('RecordWorkflowFinished', [JSON.stringify(finish)]);
  }

  async recordWorkflowCleanedUp(workflowId: string): Promise<void> {
    await this.#calls.submit('RecordWorkflowCleanedUp', [workflowId]);
  }

  async getWorkflow(workflowId: string): Promise<WorkflowLedgerRecord | undefined> {
    try {
      return json(await this.#calls.evaluate('ReadWorkflow', [workflowId]));
    } catch (err) {
      if (err instanceof LedgerflowError && err.code === 'not_found') return undefined;
      throw err;
    }
  }

  async decideResults(workflowId: string, decision: ResultsDecision): Promise<WorkflowLedgerRecord> {
    return json(await this.#calls.submit('DecideResults', [workflowId, JSON.stringify(decision)]));
  }

  async datasetHistory(datasetId: string): Promise<HistoryEntry[]> {
    return json(await this.#calls.evaluate('DatasetHistory', [datasetId]));
  }

  async requestApprovals(request: ApprovalRequest): Promise<ApprovalRecord[]> {
    return json(await this.#calls.submit('RequestApprovals', [JSON.stringify(request)]));
  }

  async decideApprovals(workflowId: string, decision: ApprovalDecision): Promise<ApprovalRecord[]> {
    return json(await this.#calls.submit('DecideApprovals', [workflowId, JSON.stringify(decision)]));
  }

  async workflowApprovals(workflowId: string): Promise<ApprovalRecord[]> {
    return json(await this.#calls.evaluate('ReadApprovals', [workflowId]));
  }

  async listApprovals(query: { state?: ApprovalState }): Promise<ApprovalRecord[]> {
    return json(await this.#calls.evaluate('ListApprovals', [JSON.stringify(query)]));
  }
}

/** The chaincode is ours and returns canonical JSON of these types; a result that does not
 * parse is a broken peer, reported as internal. */
function json<T>(text: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new LedgerflowError('internal', 'the ledger returned a malformed result', { cause: err });
  }
}
