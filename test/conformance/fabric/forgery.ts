import { createPrivateKey } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { connect, hash, type Gateway } from '@hyperledger/fabric-gateway';
import { gateway as gatewayProtos } from '@hyperledger/fabric-protos';
import { newEcdsaSigner, signAsync } from '../../../src/adapters/ledger/ecdsa';
import { getOrIssueIdentity, getOrIssueOrgIdentity } from '../../../src/ledger-peer/localCa';
import { serializeIdentity } from '../../../src/ledger-peer/membership';
import { encodeRwset } from '../../../src/ledger-peer/rwset';
import { buildTransactionEnvelope, decodeProposal } from '../../../src/ledger-peer/transaction';
import type { ReadWriteSet } from '../../../src/ledger-peer/simulator';

/**
 * Organizations that bypass the chaincode: they hold their own peers' endorsing keys (on a
 * Fabric network each organization runs its own peers, and can run modified chaincode on
 * them), write whatever read/write set they like, sign it as their peers, and submit it
 * through the gateway with a client identity of theirs, as fabric-gateway's offline path does.
 * What the committing peer makes of it is the validation code returned.
 */
export interface Forger {
  gateway: Gateway;
  /** Submits `rwset` as the result of `fn(args)`, endorsed by the peers of `endorserOrgs`;
   * resolves with the commit's validation code. */
  submit(endorserOrgs: string[], fn: string, args: string[], rwset: Partial<ReadWriteSet>): Promise<number>;
  close(): void;
}

export async function forger(endpoint: string, mspDir: string, org: string, user: string, chaincode = 'ledgerflow'): Promise<Forger> {
  const id = await getOrIssueIdentity(mspDir, org, user);
  const client = new grpc.Client(endpoint, grpc.credentials.createInsecure());
  const gateway = connect({ client, identity: { mspId: id.mspId, credentials: Buffer.from(id.certPem) }, signer: newEcdsaSigner(id.keyPem), hash: hash.none });
  const contract = gateway.getNetwork('ledgerflow').getContract(chaincode);
  return {
    gateway,
    async submit(endorserOrgs, fn, args, rwset) {
      const proposal = contract.newProposal(fn, { arguments: args });
      const signed = gatewayProtos.ProposedTransaction.deserializeBinary(proposal.getBytes()).getProposal()!;
      const decoded = decodeProposal(signed);
      const endorsers = await Promise.all(
        endorserOrgs.map(async (o) => {
          const peer = await getOrIssueOrgIdentity(mspDir, o, 'peer');
          const key = createPrivateKey(peer.keyPem);
          return { identity: serializeIdentity(peer.mspId, peer.certPem), signAsync: (m: Uint8Array) => signAsync(key, m) };
        }),
      );
      const results = encodeRwset(chaincode, { reads: [], rangeReads: [], writes: [], ...rwset });
      const { envelope } = await buildTransactionEnvelope(decoded, { status: 200, message: '', payload: Buffer.alloc(0), results }, endorsers);
      const prepared = new gatewayProtos.PreparedTransaction();
      prepared.setTransactionId(decoded.txId);
      prepared.setEnvelope(envelope);
      const commit = await gateway.newTransaction(prepared.serializeBinary()).submit();
      return (await commit.getStatus()).code;
    },
    close() {
      gateway.close();
      client.close();
    },
  };
}
