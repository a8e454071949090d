import { LedgerflowError } from '../core/errors';
import type { Settings } from '../config/settings';
import type { Logger } from '../observability/logger';
import type { Ledger } from '../ports/ledger';

/** The ledger the settings choose (fabric-gateway against a Fabric network or the embedded peer). */
export async function createLedger(s: Settings, _log: Logger): Promise<Ledger> {
  // Wired when the ledger adapter (branches chaincode/peer) lands in main.
  throw new LedgerflowError('unavailable', `ledger ${s.LEDGER} is not available in this build`);
}
