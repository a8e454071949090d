import { app, output } from '@azure/functions';
import { QUEUE_CONNECTION, QUEUES, type LeaseExpiredMessage } from '../src/api/messages';
import { services } from '../src/app/services';

/**
 * Expires overdue leases on schedule LEASE_EXPIRY_SCHEDULE (NCRONTAB), as the platform
 * identity, and tells the workflow side about each on queue `lease-expired`.
 */
const leaseExpiredQueue = output.storageQueue({ queueName: QUEUES.leaseExpired, connection: QUEUE_CONNECTION });

app.timer('leaseExpiry', {
  schedule: '%LEASE_EXPIRY_SCHEDULE%',
  extraOutputs: [leaseExpiredQueue],
  handler: async (_timer, context) => {
    const svc = await services();
    const expired = await svc.datasets.expireLeases(svc.platform);
    const messages: LeaseExpiredMessage[] = expired.map((l) => ({ datasetId: l.datasetId, holder: { user: l.holder.user, org: l.holder.org } }));
    if (messages.length > 0) context.extraOutputs.set(leaseExpiredQueue, messages);
  },
});
