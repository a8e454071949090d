// Before anything starts libuv's thread pool: it sizes the pool (see threadPool.ts).
import './threadPool';
import { Command } from 'commander';
import { createLogger } from '../observability/logger';
import { runStandalonePeer, withPeerOptions, type StandaloneOptions } from './standalone';

/**
 * Runs the embedded peer on its own, so several hosts (one per organization) can share one
 * ledger: point each host's FABRIC_PEER_ENDPOINT at it, and FABRIC_IDENTITY_DIR at its
 * `<data-dir>/ledger/msp` (or copy each organization's identities there). The same as
 * `ledgerflow ledger peer`.
 */
const program = withPeerOptions(
  new Command().name('ledgerflow-peer').description('The embedded Fabric peer: Gateway and Deliver gRPC services over a SQLite ledger'),
).action(async (opts: StandaloneOptions) => runStandalonePeer(opts, createLogger({ name: 'ledger-peer' })));

program.parseAsync().then(
  () => process.exit(0),
  (err: unknown) => {
    process.stderr.write(`ledgerflow-peer: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
