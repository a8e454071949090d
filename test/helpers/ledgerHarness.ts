// The simulator first: it sets the chaincode log level before the contract module loads.
import { loadChaincode, type Chaincode, type SimulationResult, type StateReader, type ValidationCode } from '../../src/ledger-peer/simulator';
import { contracts } from '@ledgerflow/chaincode';
import type { TestIdentity } from './identities';
import { MemoryLedger } from './memoryLedger';

export const CHANNEL = 'ledgerflow';

// The chaincode checks the proposal timestamp against the endorser's clock (Date.now). The
// harness is the endorser, so while it runs a transaction that clock is the harness's own.
let endorserClock: (() => number) | undefined;
const systemNow = Date.now.bind(Date);
Date.now = () => (endorserClock === undefined ? systemNow() : endorserClock());

let chaincode: Chaincode | undefined;
/** One loaded chaincode per test process, as a peer keeps one container per chaincode. */
export function ledgerflowChaincode(): Chaincode {
  chaincode ??= loadChaincode('ledgerflow', contracts);
  return chaincode;
}

export interface Outcome extends SimulationResult {
  txId: string;
  validation?: ValidationCode;
}

/** Endorses and commits transactions against a MemoryLedger, with a clock under test control. */
export class LedgerHarness {
  readonly ledger = new MemoryLedger();
  now = new Date('2026-01-01T00:00:00.000Z');
  private seq = 0;

  advance(seconds: number): void {
    this.now = new Date(this.now.getTime() + seconds * 1000);
  }

  nextTxId(): string {
    return `tx${String(++this.seq).padStart(6, '0')}`;
  }

  /** `timestamp` is the proposal's (the client's choice); default the endorser's `now`. */
  simulate(
    who: TestIdentity,
    fn: string,
    args: string[],
    state: StateReader = this.ledger,
    txId = this.nextTxId(),
    timestamp: Date = this.now,
  ): Promise<Outcome> {
    endorserClock = () => this.now.getTime();
    return ledgerflowChaincode()
      .simulate({ channelId: CHANNEL, txId, timestamp, creator: { mspId: who.mspId, certPem: who.certPem }, fn, args }, state)
      .then((r) => ({ ...r, txId }));
  }

  /** Simulates and, when endorsed, commits in its own block. */
  submit(who: TestIdentity, fn: string, ...args: string[]): Promise<Outcome> {
    return this.submitAt(this.now, who, fn, ...args);
  }

  /** As submit, with the proposal dated `timestamp` (a client may choose any). */
  async submitAt(timestamp: Date, who: TestIdentity, fn: string, ...args: string[]): Promise<Outcome> {
    const outcome = await this.simulate(who, fn, args, this.ledger, this.nextTxId(), timestamp);
    if (outcome.status >= 400) return outcome;
    const validation = this.ledger.commit({ txId: outcome.txId, timestamp, rwset: outcome.rwset });
    return { ...outcome, validation };
  }

  /** A query: simulated, never committed. */
  evaluate(who: TestIdentity, fn: string, ...args: string[]): Promise<Outcome> {
    return this.simulate(who, fn, args);
  }

  /** Submits and returns the parsed JSON result, failing on any error. */
  async ok<T = unknown>(who: TestIdentity, fn: string, ...args: string[]): Promise<T> {
    const outcome = await this.submit(who, fn, ...args);
    if (outcome.status >= 400) throw new Error(`${fn} failed: ${outcome.message}`);
    if (outcome.validation !== undefined && outcome.validation !== 'VALID') throw new Error(`${fn} invalid: ${outcome.validation}`);
    const text = outcome.payload.toString('utf8');
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  async query<T = unknown>(who: TestIdentity, fn: string, ...args: string[]): Promise<T> {
    const outcome = await this.evaluate(who, fn, ...args);
    if (outcome.status >= 400) throw new Error(`${fn} failed: ${outcome.message}`);
    const text = outcome.payload.toString('utf8');
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }
}

/** The chaincode's error JSON from a failed outcome. */
export function errorOf(outcome: Outcome): { code: string; message: string; data?: Record<string, unknown> } {
  if (outcome.status < 400) throw new Error(`expected a failure, got status ${outcome.status}`);
  return JSON.parse(outcome.message) as { code: string; message: string; data?: Record<string, unknown> };
}

/** RegisterDataset's argument, valid unless overridden. */
export function newDataset(id: string, overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    id,
    name: `dataset ${id}`,
    description: 'test data',
    policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 600 },
    storageKind: 'local',
    sealedLocation: 'c2VhbGVkLWxvY2F0aW9u',
    ...overrides,
  });
}
