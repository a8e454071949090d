import { routes } from '../src/api/routes';
import { authRoute } from './http/authRoute';

/** Taking and releasing a dataset's lease (a ledger transaction; one holder at a time).
 * Paths and schemas come from the route table (src/api/routes.ts). */

authRoute(routes.leasesTake, async ({ services, caller, params, body }) => {
  const lease = await services.datasets.takeLease(caller, params.id, body?.ttlSeconds);
  return { status: 201, body: { datasetId: lease.datasetId, holder: lease.holder, expiresAt: lease.expiresAt } };
});

authRoute(routes.leasesRelease, async ({ services, caller, params }) => {
  await services.datasets.releaseLease(caller, params.id);
  return { status: 204 };
});
