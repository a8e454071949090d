import { app, output } from '@azure/functions';
import { services } from '../src/app/services';

/**
 * Expires overdue leases on schedule LEASE_EXPIRY_SCHEDULE (NCRONTAB), as the platform
 * identity, and tells the workflow side about each on queue `lease-expired`.
 */
export interface LeaseExpiredMessage {
  datasetId: string;
  holder: { user: string; org: string };
  reason: 'lease-expired';
}

const leaseExpiredQueue = output.storageQueue({ queueName: 'lease-expired', connection: 'AzureWebJobsStorage' });

app.timer('leaseExpiry', {
  schedule: '%LEASE_EXPIRY_SCHEDULE%',
  extraOutputs: [leaseExpiredQueue],
  handler: async (_timer, context) => {
    const svc = await services();
    const expired = await svc.datasets.expireLeases(svc.platform);
    const messages: LeaseExpiredMessage[] = expired.map((l) => ({ datasetId: l.datasetId, holder: l.holder, reason: 'lease-expired' }));
    if (messages.length > 0) context.extraOutputs.set(leaseExpiredQueue, messages);
  },
});
