import { ledgerContract } from './ledger.contract';
import { startPeerFixture } from '../integration/ledger/peerFixture';
import { InMemoryLedgerPort } from '../unit/datasets/inMemoryLedgerPort';

ledgerContract('in-memory port', async () => ({ ledger: new InMemoryLedgerPort(() => new Date()), close: async () => {} }));

ledgerContract('FabricLedger over the embedded peer', async () => {
  const fixture = await startPeerFixture();
  return { ledger: fixture.ledger, close: () => fixture.close() };
});
