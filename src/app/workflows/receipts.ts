import { notFound } from '../../core/errors';
import type { Caller } from '../../core/model';
import {
  buildReceipt,
  firstDifference,
  pathValue,
  receiptInconsistency,
  RECEIPT_FORMAT,
  sha256Hex,
  showValue,
  type Receipt,
  type ReceiptTransaction,
} from '../../core/receipt';
import { ORCHESTRATORS } from '../../core/workflow/run';
import type { CommittedTransaction, Ledger, LedgerSession } from '../../ports/ledger';
import type { RunControl } from './runControl';
import { factsOf } from './views';

/**
 * Run receipts (src/core/receipt.ts): built by the host from the run's ledger trail with
 * each transaction's block number read from the ledger (qscc), and verified by anyone with
 * a ledger identity of the channel, who asks the ledger (not the host) for every transaction.
 */

export interface ReceiptDeps {
  ledger: Ledger;
  runs: RunControl;
  /** The channel and chaincode the app's ledger is (FABRIC_CHANNEL, FABRIC_CHAINCODE). */
  ledgerNames: Receipt['ledger'];
}

/** The receipt of a run, for its requester's organization and the organizations owning its
 * datasets; to anyone else the run does not exist (404, as on every workflow route). */
export async function runReceipt(deps: ReceiptDeps, caller: Caller, workflowId: string): Promise<Receipt> {
  const record = await deps.runs.get(workflowId);
  const facts = record === undefined || record.name !== ORCHESTRATORS.workflow ? undefined : factsOf(record);
  if (facts === undefined) throw notFound(`workflow ${workflowId}`);
  const session = deps.ledger.as(caller);
  if (facts.owner.org !== caller.org && !(await ownsADataset(session, facts.datasetIds, caller))) throw notFound(`workflow ${workflowId}`);
  const trail = await session.workflowTrail(workflowId);
  const committed = new Map<string, Promise<CommittedTransaction | undefined>>();
  const blockOf = async (txId: string): Promise<number> => {
    let tx = committed.get(txId);
    if (tx === undefined) committed.set(txId, (tx = session.transaction(txId)));
    const found = await tx;
    // The trail comes from committed history: a transaction it names is in a block.
    if (found === undefined) throw new Error(`transaction ${txId} of the trail of workflow ${workflowId} is in no block`);
    return found.blockNumber;
  };
  const writes = await Promise.all(trail.map(async (w) => ({ ...w, blockNumber: await blockOf(w.txId) })));
  return buildReceipt(workflowId, deps.ledgerNames, writes);
}

async function ownsADataset(session: LedgerSession, datasetIds: readonly string[], caller: Caller): Promise<boolean> {
  for (const id of datasetIds) if ((await session.getDataset(id))?.owner.org === caller.org) return true;
  return false;
}

export type ReceiptCheck = { ok: true; transactions: number } | { ok: false; transactions: number; mismatch: string };

/**
 * Checks a receipt against the ledger through `session` (an organization's identity on the
 * channel): every transaction is in the block the receipt names, VALID, with the timestamp
 * shown, and its write set writes the key with the value shown (or the digest shown); no
 * write of the run's trail up to the receipt's last block is left out; and the receipt agrees
 * with itself (receiptInconsistency: kinds, summary, hash chain). Stops at the first mismatch.
 */
export async function verifyReceipt(receipt: Receipt, session: LedgerSession, channel: string): Promise<ReceiptCheck> {
  let checked = 0;
  const fail = (mismatch: string): ReceiptCheck => ({ ok: false, transactions: checked, mismatch });
  if (receipt.format !== RECEIPT_FORMAT) return fail(`format: not a ${RECEIPT_FORMAT} receipt`);
  if (receipt.ledger.channel !== channel) return fail(`ledger.channel: the receipt names channel ${receipt.ledger.channel}, the ledger asked is ${channel}`);
  const fetched = new Map<string, CommittedTransaction | undefined>();
  for (const [i, entry] of receipt.transactions.entries()) {
    const where = `transactions[${i}] (tx ${entry.txId}, ${entry.kind})`;
    if (!fetched.has(entry.txId)) fetched.set(entry.txId, await session.transaction(entry.txId));
    const tx = fetched.get(entry.txId);
    if (tx === undefined) return fail(`${where}: no such transaction on the ledger`);
    if (tx.validationCode !== 0) return fail(`${where}: the transaction is on the ledger but not VALID (validation code ${tx.validationCode})`);
    if (tx.blockNumber !== entry.blockNumber)
      return fail(`${where}.blockNumber: the receipt says ${entry.blockNumber}, the ledger has it in block ${tx.blockNumber}`);
    if (tx.timestamp !== entry.timestamp) return fail(`${where}.timestamp: the receipt says ${entry.timestamp}, the ledger says ${tx.timestamp}`);
    const write = tx.writes.find((w) => w.namespace === receipt.ledger.chaincode && w.key === entry.key);
    if (write === undefined) return fail(`${where}.key: the transaction wrote no key ${JSON.stringify(entry.key)} of ${receipt.ledger.chaincode}`);
    const problem = valueMismatch(entry, write);
    if (problem !== undefined) return fail(`${where}.${problem}`);
    checked += 1;
  }
  const omitted = await firstOmission(receipt, session, fetched);
  if (omitted !== undefined) return fail(omitted);
  const inconsistent = receiptInconsistency(receipt);
  return inconsistent === undefined ? { ok: true, transactions: checked } : fail(inconsistent);
}

/** A write of the run's trail, as the ledger answers it now, that the receipt leaves out
 * although it was committed no later than the receipt's last block (later ones came after
 * the receipt was made). */
async function firstOmission(receipt: Receipt, session: LedgerSession, fetched: Map<string, CommittedTransaction | undefined>): Promise<string | undefined> {
  const named = new Set(receipt.transactions.map((t) => `${t.txId}\u0000${t.key}`));
  const last = Math.max(-1, ...receipt.transactions.map((t) => t.blockNumber));
  for (const w of await session.workflowTrail(receipt.workflowId)) {
    if (named.has(`${w.txId}\u0000${w.key}`)) continue;
    if (!fetched.has(w.txId)) fetched.set(w.txId, await session.transaction(w.txId));
    const block = fetched.get(w.txId)?.blockNumber;
    if (block !== undefined && block > last) continue;
    return `transactions: the receipt leaves out tx ${w.txId} in block ${block ?? '?'}, which wrote ${JSON.stringify(w.key)} for this run`;
  }
  return undefined;
}

function valueMismatch(entry: ReceiptTransaction, write: CommittedTransaction['writes'][number]): string | undefined {
  if (write.isDelete !== (entry.deleted === true)) return `deleted: the receipt says ${entry.deleted === true}, the ledger says ${write.isDelete}`;
  if (write.isDelete) return undefined;
  if (entry.valueSha256 !== undefined) {
    const actual = sha256Hex(write.value);
    return actual === entry.valueSha256 ? undefined : `valueSha256: the receipt says ${entry.valueSha256}, the value written hashes to ${actual}`;
  }
  let written: unknown;
  try {
    written = JSON.parse(Buffer.from(write.value).toString('utf8')) as unknown;
  } catch {
    return 'value: the ledger holds no JSON value here';
  }
  const differs = firstDifference(written, entry.value, 'value');
  return differs === undefined
    ? undefined
    : `${differs}: the receipt says ${showValue(pathValue({ value: entry.value }, differs))}, the ledger says ${showValue(pathValue({ value: written }, differs))}`;
}
