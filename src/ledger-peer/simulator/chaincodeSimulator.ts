import type { ChaincodeStub } from 'fabric-shim-api';
import { chaincodeInput, decodedProposal, proposalBinding, type ChaincodeInputLike, type DecodedProposalFields } from './proposal';
import { memoizeCertificateParsing, memoizeParameterSchemas, setShimLogLevel } from './shimTuning';
import { TxSimulator } from './txSimulator';
import type { Chaincode, ReadWriteSet, SimulationInput, SimulationResult, StateReader } from './types';

/**
 * A peer sets CORE_CHAINCODE_LOGGING_LEVEL for its chaincode containers; this process is
 * the container, so the default is set here, before a contract module is loaded (its
 * decorators log at load time): import the simulator before the chaincode.
 */
const DEFAULT_LOG_LEVEL = 'CRITICAL';
process.env.CORE_CHAINCODE_LOGGING_LEVEL ??= DEFAULT_LOG_LEVEL;

/*
 * The chaincode runs through fabric-shim's own pieces, as in a chaincode container:
 * ChaincodeFromContract (fabric-contract-api dispatch: metadata, serializers, contexts,
 * ClientIdentity from the creator) over a real ChaincodeStub whose peer-side handler is
 * the in-process TxSimulator. These modules are internal to fabric-shim (no typings,
 * pinned ~2.5.8), so each is typed here with just what is used.
 */
interface ShimResponse {
  status: number;
  message?: string;
  payload?: Uint8Array;
}
interface ContractDispatcher {
  Invoke(stub: ChaincodeStub): Promise<ShimResponse>;
}
type StubConstructor = new (handler: TxSimulator, channelId: string, txId: string, input: ChaincodeInputLike, signedProposal: undefined) => ChaincodeStub;

const ChaincodeFromContract = require('fabric-shim/lib/contract-spi/chaincodefromcontract') as new (
  contracts: unknown[],
  serializers: { transaction: string; serializers: Record<string, unknown> },
  metadata: object,
  title: string,
  version: string,
) => ContractDispatcher;
const ShimStub = require('fabric-shim/lib/stub') as StubConstructor;
const { JSONSerializer } = require('fabric-contract-api') as { JSONSerializer: unknown };

/** fabric-shim's stub, given the proposal fields already decoded (see ./proposal). It keeps
 * only the last event, as Fabric does; this one also hands it back. */
class SimulationStub extends ShimStub {
  event: { name: string; payload: Buffer } | undefined;

  constructor(
    handler: TxSimulator,
    private readonly input: SimulationInput,
  ) {
    super(handler, input.channelId, input.txId, chaincodeInput(input), undefined);
    const fields: DecodedProposalFields = decodedProposal(input);
    Object.assign(this, fields);
  }

  askedMspId = false;

  /** The endorsing organization's MSP id, which a peer sets as CORE_PEER_LOCALMSPID in its
   * chaincode's environment; here one process endorses for every organization, so it comes
   * with each simulation. */
  override getMspID(): string {
    this.askedMspId = true;
    return this.input.endorserMspId ?? super.getMspID();
  }

  /** Computed when asked: few chaincodes use it. */
  override getBinding(): string {
    return proposalBinding(this.input);
  }

  override setEvent(name: string, payload: Uint8Array): void {
    super.setEvent(name, payload);
    this.event = { name, payload: Buffer.from(payload) };
  }
}

export interface LoadChaincodeOptions {
  /** fabric-shim's log level (CRITICAL, ERROR, WARNING, INFO, DEBUG), as a peer sets with
   * CORE_CHAINCODE_LOGGING_LEVEL. Default: that variable, else CRITICAL, because a failed
   * transaction (a held lease, say) is a normal outcome that the peer reports, not a log line. */
  logLevel?: string;
}

const emptyRwset = (): ReadWriteSet => ({ reads: [], rangeReads: [], writes: [] });

/** Loads contract classes (a chaincode module's `contracts` export) as a chaincode named `name`. */
export function loadChaincode(name: string, contracts: unknown[], options: LoadChaincodeOptions = {}): Chaincode {
  const level = options.logLevel ?? process.env.CORE_CHAINCODE_LOGGING_LEVEL ?? DEFAULT_LOG_LEVEL;
  setShimLogLevel(level);
  memoizeCertificateParsing();
  // The same default serialization `fabric-chaincode-node start` uses for a module without `serializers`.
  const serializers = { transaction: 'jsonSerializer', serializers: { jsonSerializer: JSONSerializer } };
  // ChaincodeFromContract appends its system contract to the array it is given.
  const dispatcher = new ChaincodeFromContract([...contracts], serializers, {}, name, '');
  memoizeParameterSchemas(dispatcher);

  return {
    name,
    async simulate(input: SimulationInput, state: StateReader): Promise<SimulationResult> {
      const txsim = new TxSimulator(state);
      let response: ShimResponse;
      let stub: SimulationStub | undefined;
      try {
        stub = new SimulationStub(txsim, input);
        response = await dispatcher.Invoke(stub);
      } catch (err) {
        response = { status: 500, message: err instanceof Error ? err.message : String(err) };
      } finally {
        txsim.finish();
      }
      if (response.status >= 400) {
        // Not endorsed: nothing of it may reach the ledger.
        return { status: response.status, message: response.message ?? '', payload: Buffer.alloc(0), rwset: emptyRwset() };
      }
      const result: SimulationResult = {
        status: response.status,
        message: response.message ?? '',
        payload: Buffer.from(response.payload ?? new Uint8Array()),
        rwset: txsim.readWriteSet(),
      };
      if (stub?.event !== undefined) result.event = stub.event;
      if (stub?.askedMspId === true) result.askedMspId = true;
      return result;
    },
  };
}
