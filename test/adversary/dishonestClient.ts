import * as grpc from '@grpc/grpc-js';
import { connect, hash, type Contract, type Gateway } from '@hyperledger/fabric-gateway';
import { common, gateway as gatewayProtos, peer } from '@hyperledger/fabric-protos';
import { newEcdsaSigner, type MessageSigner } from '../../src/adapters/ledger/ecdsa';
import { getOrIssueIdentity } from '../../src/ledger-peer/localCa';

/**
 * A member organization's own Fabric client, as a dishonest member would run it: its own
 * valid identity from its own CA, talking to the peer's Gateway service directly (not
 * through ledgerflow), free to choose any arguments and any proposal timestamp.
 *
 * fabric-gateway always stamps a proposal with the current time, so the client takes the
 * offline-signing path: build the proposal, rewrite the channel header's timestamp (the
 * transaction id is sha256(nonce + creator) and does not cover it), sign the rewritten
 * bytes with its own key, and hand them back to the gateway to endorse and submit.
 */
export type ForgedTime = Date | 'absent' | 'honest';

export interface Outcome {
  ok: boolean;
  /** The chaincode's result (ok) or the peer's error text (refused). */
  text: string;
  /** The chaincode error code when refused by the chaincode. */
  code?: string;
}

export class DishonestClient {
  readonly #client: grpc.Client;
  readonly #gateway: Gateway;
  readonly #contract: Contract;
  readonly #signer: MessageSigner;

  private constructor(client: grpc.Client, gateway: Gateway, signer: MessageSigner) {
    this.#client = client;
    this.#gateway = gateway;
    this.#signer = signer;
    this.#contract = gateway.getNetwork('ledgerflow').getContract('ledgerflow');
  }

  static async connect(endpoint: string, mspDir: string, org: string, user: string, attributes?: Record<string, string>): Promise<DishonestClient> {
    const id = await getOrIssueIdentity(mspDir, org, user, attributes);
    const client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
    const signer = newEcdsaSigner(id.keyPem);
    const gateway = connect({ client, identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) }, signer, hash: hash.none });
    return new DishonestClient(client, gateway, signer);
  }

  /** Endorses, submits and waits for the commit of `fn(args)` dated `time`. */
  async submit(time: ForgedTime, fn: string, ...args: string[]): Promise<Outcome> {
    try {
      const proposal = await this.#proposal(time, fn, args);
      const transaction = await proposal.endorse();
      const commit = await transaction.submit();
      const status = await commit.getStatus();
      const text = Buffer.from(transaction.getResult()).toString('utf8');
      return status.successful ? { ok: true, text } : { ok: false, text: `invalidated: ${status.code}` };
    } catch (err) {
      return refused(err);
    }
  }

  /** Evaluates (a query) `fn(args)` dated `time`. */
  async evaluate(time: ForgedTime, fn: string, ...args: string[]): Promise<Outcome> {
    try {
      const proposal = await this.#proposal(time, fn, args);
      return { ok: true, text: Buffer.from(await proposal.evaluate()).toString('utf8') };
    } catch (err) {
      return refused(err);
    }
  }

  close(): void {
    this.#gateway.close();
    this.#client.close();
  }

  async #proposal(time: ForgedTime, fn: string, args: string[]) {
    const honest = this.#contract.newProposal(fn, { arguments: args });
    if (time === 'honest') return honest;
    const proposed = gatewayProtos.ProposedTransaction.deserializeBinary(honest.getBytes());
    const signed = proposed.getProposal()!;
    const proposal = peer.Proposal.deserializeBinary(signed.getProposalBytes_asU8());
    const header = common.Header.deserializeBinary(proposal.getHeader_asU8());
    const channelHeader = common.ChannelHeader.deserializeBinary(header.getChannelHeader_asU8());
    const timestamp = channelHeader.getTimestamp()!;
    if (time === 'absent') channelHeader.clearTimestamp();
    else {
      timestamp.setSeconds(Math.floor(time.getTime() / 1000));
      timestamp.setNanos((time.getTime() % 1000) * 1_000_000);
    }
    header.setChannelHeader(channelHeader.serializeBinary());
    proposal.setHeader(header.serializeBinary());
    const forgedBytes = proposal.serializeBinary();
    signed.setProposalBytes(forgedBytes);
    proposed.setProposal(signed);
    return this.#gateway.newSignedProposal(proposed.serializeBinary(), await this.#signer(forgedBytes));
  }
}

function refused(err: unknown): Outcome {
  const details = (err as { details?: { message: string }[] }).details ?? [];
  const text = [...details.map((d) => d.message), err instanceof Error ? err.message : String(err)].join(' | ');
  const match = /\{"code":"([a-z_]+)"/.exec(text);
  return match === null ? { ok: false, text } : { ok: false, text, code: match[1]! };
}
