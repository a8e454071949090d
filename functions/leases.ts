import { z } from 'zod';
import { authRoute } from './http/authRoute';
import { datasetIdParam, leaseBody } from '../src/app/datasetRequests';

/** Taking and releasing a dataset's lease (a ledger transaction; one holder at a time). */
const idParams = z.object({ id: datasetIdParam });

authRoute('leasesTake', {
  methods: ['POST'],
  route: 'datasets/{id}/lease',
  params: idParams,
  body: leaseBody,
  handler: async ({ services, caller, params, body }) => {
    const lease = await services.datasets.takeLease(caller, params.id, body?.ttlSeconds);
    return { status: 201, body: { datasetId: lease.datasetId, holder: lease.holder, expiresAt: lease.expiresAt } };
  },
});

authRoute('leasesRelease', {
  methods: ['DELETE'],
  route: 'datasets/{id}/lease',
  params: idParams,
  handler: async ({ services, caller, params }) => {
    await services.datasets.releaseLease(caller, params.id);
    return { status: 204 };
  },
});
