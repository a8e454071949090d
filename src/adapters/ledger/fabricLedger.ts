import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { connect, GatewayError, hash, type Contract, type Gateway, type Network } from '@hyperledger/fabric-gateway';
import type { Caller } from '../../core/model';
import type { Ledger, LedgerEvent, LedgerSession } from '../../ports/ledger';
import { isMvccConflict, LedgerCommitStatusError, toLedgerError } from './errors';
import type { IdentityResolver } from './identities';
import { FabricLedgerSession } from './session';

/**
 * The app's one Ledger: @hyperledger/fabric-gateway against a Fabric peer's Gateway service,
 * whether that is a Fabric network or the embedded peer. One gRPC connection per endpoint is
 * shared by every caller's Gateway (fabric-gateway's recommended use); reads are evaluated,
 * writes submitted and awaited to commit, and an MVCC conflict is retried (re-endorsed
 * against the new state) a bounded number of times.
 */
export interface FabricLedgerOptions {
  endpoint: string;
  /** PEM of the peer's TLS root CA; absent: plaintext (loopback only). */
  tlsRootCert?: string | Buffer;
  /** TLS server name override when the endpoint's host differs from the certificate's. */
  tlsServerName?: string;
  channel: string;
  chaincode: string;
  /** The contract inside the chaincode. */
  contract?: string;
  identities: IdentityResolver;
  /** The identity that reads chaincode events. */
  serviceCaller: Caller;
  /** Re-endorse and resubmit this many times after an MVCC conflict. */
  mvccRetries?: number;
}

/** Fabric's query system chaincode, on every peer of a channel. */
const QSCC = 'qscc';
const NOT_ON_LEDGER = /no such transaction ID|entry not found in index/i;

const DEADLINES_MS = { evaluate: 10_000, endorse: 20_000, submit: 10_000, commitStatus: 60_000 };
const deadline = (ms: number) => () => ({ deadline: Date.now() + ms });

export class FabricLedger implements Ledger {
  readonly #options: FabricLedgerOptions;
  readonly #client: grpc.Client;
  readonly #gateways = new Map<string, Promise<Gateway>>();
  /** One Contract per caller: fabric-gateway's objects are immutable and reusable. */
  readonly #contracts = new Map<string, Promise<Contract>>();

  constructor(options: FabricLedgerOptions) {
    this.#options = options;
    const credentials = options.tlsRootCert === undefined ? grpc.credentials.createInsecure() : grpc.credentials.createSsl(Buffer.from(options.tlsRootCert));
    // Channelz off: grpc-js's per-call counters for a debug service this process never serves.
    this.#client = new grpc.Client(options.endpoint, credentials, {
      'grpc.enable_channelz': 0,
      ...(options.tlsServerName === undefined ? {} : { 'grpc.ssl_target_name_override': options.tlsServerName }),
    });
  }

  as(caller: Caller): LedgerSession {
    return new FabricLedgerSession({
      evaluate: async (name, args) => {
        const contract = await this.#contract(caller);
        try {
          return Buffer.from(await contract.evaluateTransaction(name, ...args)).toString('utf8');
        } catch (err) {
          throw toLedgerError(err, 'evaluate');
        }
      },
      submit: (name, args) => this.#submit(caller, name, args),
      queryLedger: async (name, arg) => {
        const qscc = (await this.#network(caller)).getContract(QSCC);
        try {
          return await qscc.evaluateTransaction(name, this.#options.channel, arg);
        } catch (err) {
          // Fabric's ledger says so in the message (blkstorage: "no such transaction ID [..] in index").
          if (err instanceof GatewayError && [err.message, ...err.details.map((d) => d.message)].some((m) => NOT_ON_LEDGER.test(m))) return undefined;
          throw toLedgerError(err, 'evaluate');
        }
      },
    });
  }

  async *events(options: { startBlock?: bigint; afterTransactionId?: string; signal?: AbortSignal }): AsyncIterable<LedgerEvent> {
    const network = await this.#network(this.#options.serviceCaller);
    const checkpoint =
      options.startBlock === undefined ? undefined : { getBlockNumber: () => options.startBlock, getTransactionId: () => options.afterTransactionId };
    const events = await network
      .getChaincodeEvents(this.#options.chaincode, checkpoint === undefined ? {} : { checkpoint })
      .catch((err: unknown) => Promise.reject(toLedgerError(err, 'evaluate')));
    const onAbort = () => events.close();
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // Aborted while the stream was being opened: the listener came too late to close it.
    if (options.signal?.aborted === true) events.close();
    try {
      for await (const event of events) {
        yield { blockNumber: event.blockNumber, txId: event.transactionId, name: event.eventName, payload: decodePayload(event.payload) };
      }
    } catch (err) {
      if (options.signal?.aborted) return;
      throw toLedgerError(err, 'evaluate');
    } finally {
      options.signal?.removeEventListener('abort', onAbort);
      events.close();
    }
  }

  async close(): Promise<void> {
    for (const gateway of this.#gateways.values()) (await gateway.catch(() => undefined))?.close();
    this.#gateways.clear();
    this.#contracts.clear();
    this.#client.close();
  }

  async #submit(caller: Caller, name: string, args: string[]): Promise<string> {
    const contract = await this.#contract(caller);
    const retries = this.#options.mvccRetries ?? 3;
    for (let attempt = 0; ; attempt++) {
      let submitted;
      try {
        submitted = await contract.submitAsync(name, { arguments: args });
      } catch (err) {
        throw toLedgerError(err, stageOf(err));
      }
      let status;
      try {
        status = await submitted.getStatus();
      } catch (err) {
        throw toLedgerError(err, 'commit');
      }
      if (status.successful) return Buffer.from(submitted.getResult()).toString('utf8');
      if (!isMvccConflict(status.code) || attempt >= retries) {
        const conflict = isMvccConflict(status.code);
        throw new LedgerCommitStatusError(
          conflict ? 'conflict' : 'internal',
          conflict ? 'the transaction kept conflicting with concurrent ones' : `the transaction was invalidated (validation code ${status.code})`,
          {
            transactionId: status.transactionId,
            validationCode: status.code,
          },
        );
      }
      // Jittered backoff so the racers do not collide again in the same block.
      await sleep(Math.random() * 5 * (attempt + 1));
    }
  }

  #contract(caller: Caller): Promise<Contract> {
    const key = callerKey(caller);
    let contract = this.#contracts.get(key);
    if (contract === undefined) {
      contract = this.#network(caller).then((network) => network.getContract(this.#options.chaincode, this.#options.contract ?? 'ledgerflow'));
      this.#contracts.set(key, contract);
      contract.catch(() => this.#contracts.delete(key));
    }
    return contract;
  }

  async #network(caller: Caller): Promise<Network> {
    const key = callerKey(caller);
    let gateway = this.#gateways.get(key);
    if (gateway === undefined) {
      gateway = this.#connect(caller);
      this.#gateways.set(key, gateway);
      gateway.catch(() => this.#gateways.delete(key));
    }
    return (await gateway).getNetwork(this.#options.channel);
  }

  async #connect(caller: Caller): Promise<Gateway> {
    const identity = await this.#options.identities(caller);
    return connect({
      client: this.#client,
      identity: { mspId: identity.mspId, credentials: Buffer.from(identity.certPem) },
      signer: identity.signer,
      // The signer hashes (SHA-256) itself: node:crypto, much faster than the bundled signer.
      hash: hash.none,
      evaluateOptions: deadline(DEADLINES_MS.evaluate),
      endorseOptions: deadline(DEADLINES_MS.endorse),
      submitOptions: deadline(DEADLINES_MS.submit),
      commitStatusOptions: deadline(DEADLINES_MS.commitStatus),
      chaincodeEventsOptions: () => ({}),
    });
  }
}

/** The payload's JSON, for the consumer to parse with its schema (src/api/ledgerRecords.ts);
 * `undefined` when empty or not JSON, which that schema refuses: one bad event must not end
 * the stream for every event after it. */
function decodePayload(bytes: Uint8Array): unknown {
  const text = Buffer.from(bytes).toString('utf8');
  try {
    return text === '' ? undefined : (JSON.parse(text) as unknown);
  } catch {
    return undefined;
  }
}

const callerKey = (caller: Caller) => `${caller.org}\u0000${caller.user}`;

/** submitAsync covers endorsement and submission; fabric-gateway names which by error type. */
function stageOf(err: unknown): 'endorse' | 'submit' {
  return err instanceof Error && err.name === 'SubmitError' ? 'submit' : 'endorse';
}
