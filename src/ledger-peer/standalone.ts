import { Command, InvalidArgumentError } from 'commander';
import type { Logger } from '../observability/logger';
import { ChaincodePackageError, loadChaincodePackage } from './chaincodePackage';
import { DEFAULT_CHANNEL, ledgerflowChaincode, startEmbeddedPeer } from './peer';
import { QSCC } from './qscc';
import type { Chaincode } from './simulator';

/**
 * The embedded peer run on its own (`ledgerflow ledger peer`, or dist/src/ledger-peer/main.js),
 * so several hosts (one per organization) share one ledger, and so users can try their own
 * chaincode locally: `--chaincode <package dir>` (repeatable) serves a Node.js chaincode
 * package beside the ledgerflow contract, as a chaincode definition would on a channel.
 */

export interface StandaloneOptions {
  dataDir: string;
  port: number;
  host: string;
  tls: boolean;
  channel: string;
  blockMaxTx: number;
  blockTimeoutMs: number;
  chaincode: string[];
  org?: string[];
  endorsementPolicy: string;
}

const int = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
};

/** Adds the peer's options to `command`. */
export function withPeerOptions(command: Command): Command {
  return command
    .requiredOption('--data-dir <dir>', "where the ledger and the organizations' CAs live")
    .option('--port <port>', 'gRPC port (0: any free port)', int, 7051)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--tls', "serve TLS with a certificate from the peer's CA (required off loopback)", false)
    .option('--channel <name>', 'channel name', DEFAULT_CHANNEL)
    .option('--block-max-tx <n>', 'cut a block at this many transactions', int, 500)
    .option('--block-timeout-ms <ms>', 'cut a block this long after its first transaction', int, 2)
    .option(
      '--chaincode <package dir>',
      'also serve this Node.js chaincode package (package.json main exporting `contracts`), under its package name or as <name>=<dir>; repeatable',
      (value: string, all: string[]) => [...all, value],
      [] as string[],
    )
    .option(
      '--org <org...>',
      "the channel's organizations when the ledger is created (default LEDGER_ORGS, comma separated; with those whose CAs are in the data dir)",
    )
    .option('--endorsement-policy <policy>', "the chaincodes' endorsement policy", 'MAJORITY Endorsement');
}

/** The chaincodes to serve: the ledgerflow contract and each package, names unique. */
export function standaloneChaincodes(packages: readonly string[]): Chaincode[] {
  const chaincodes = [ledgerflowChaincode()];
  for (const spec of packages) {
    const chaincode = loadChaincodePackage(spec);
    if (chaincode.name === QSCC || chaincodes.some((c) => c.name === chaincode.name)) {
      throw new ChaincodePackageError(`a chaincode named ${chaincode.name} is already served; give this one another name: --chaincode <name>=${spec}`);
    }
    chaincodes.push(chaincode);
  }
  return chaincodes;
}

/** Starts the peer, prints `{endpoint, channel, mspDir, tlsRootCert, chaincodes}` on stdout,
 * and serves until SIGINT or SIGTERM; resolves once the peer has stopped. */
export async function runStandalonePeer(options: StandaloneOptions, logger: Logger): Promise<void> {
  const { chaincode: packages, org, ...rest } = options;
  const chaincodes = standaloneChaincodes(packages);
  const orgs =
    org ??
    (process.env['LEDGER_ORGS'] ?? '')
      .split(',')
      .map((o) => o.trim())
      .filter((o) => o !== '');
  const peer = await startEmbeddedPeer({ ...rest, orgs, chaincodes, logger });
  process.stdout.write(
    `${JSON.stringify({ endpoint: peer.endpoint, channel: peer.channel, mspDir: peer.mspDir, tlsRootCert: peer.tlsRootCert, chaincodes: chaincodes.map((c) => c.name) })}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await peer.stop();
}
