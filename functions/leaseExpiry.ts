import { app } from '@azure/functions';
import { services } from '../src/app/services';

/**
 * Expires overdue leases on schedule LEASE_EXPIRY_SCHEDULE (NCRONTAB), as the platform
 * identity. Runs on the expired leases are stopped by the ledger's `LeasesExpired` event
 * (functions/ledgerEvents.ts), not by what this call returns: a lease may end by any path.
 */
app.timer('leaseExpiry', {
  schedule: '%LEASE_EXPIRY_SCHEDULE%',
  handler: async () => {
    const svc = await services();
    await svc.datasets.expireLeases(svc.platform);
  },
});
