import { Command, InvalidArgumentError } from 'commander';
import { createLogger } from '../observability/logger';
import { startEmbeddedPeer } from './peer';

/**
 * Runs the embedded peer on its own, so several hosts (one per organization) can share one
 * ledger: point each host's FABRIC_PEER_ENDPOINT at it, and FABRIC_IDENTITY_DIR at its
 * `<data-dir>/ledger/msp` (or copy each organization's identities there).
 */
const int = (value: string) => {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('must be a whole number');
  return n;
};

const program = new Command()
  .name('ledgerflow-peer')
  .description('The embedded Fabric peer: Gateway gRPC service over a SQLite ledger')
  .requiredOption('--data-dir <dir>', "where the ledger and the organizations' CAs live")
  .option('--port <port>', 'gRPC port (0: any free port)', int, 7051)
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--tls', "serve TLS with a certificate from the peer's CA (required off loopback)", false)
  .option('--channel <name>', 'channel name', 'ledgerflow')
  .option('--block-max-tx <n>', 'cut a block at this many transactions', int, 500)
  .option('--block-timeout-ms <ms>', 'cut a block this long after its first transaction', int, 2)
  .option(
    '--org <org...>',
    "the channel's organizations when the ledger is created (default LEDGER_ORGS, comma separated; with those whose CAs are in the data dir)",
  )
  .option('--endorsement-policy <policy>', "the chaincodes' endorsement policy", 'MAJORITY Endorsement')
  .action(
    async (opts: {
      dataDir: string;
      port: number;
      host: string;
      tls: boolean;
      channel: string;
      blockMaxTx: number;
      blockTimeoutMs: number;
      org?: string[];
      endorsementPolicy: string;
    }) => {
      const logger = createLogger({ name: 'ledger-peer' });
      const { org, ...rest } = opts;
      const orgs =
        org ??
        (process.env['LEDGER_ORGS'] ?? '')
          .split(',')
          .map((o) => o.trim())
          .filter((o) => o !== '');
      const peer = await startEmbeddedPeer({ ...rest, orgs, logger });
      process.stdout.write(`${JSON.stringify({ endpoint: peer.endpoint, channel: peer.channel, mspDir: peer.mspDir, tlsRootCert: peer.tlsRootCert })}\n`);
      const stop = () => {
        peer.stop().then(
          () => process.exit(0),
          (err: unknown) => {
            logger.error({ err }, 'peer stop failed');
            process.exit(1);
          },
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    },
  );

program.parseAsync().catch((err: unknown) => {
  process.stderr.write(`ledgerflow-peer: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
