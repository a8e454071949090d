import type { HttpRequest } from '@azure/functions';
import { LedgerflowError } from '../../core/errors';
import { unsealLocation } from '../../core/crypto/seal';
import { dataKeyName } from '../../core/secretNames';
import { provideActivityDeps } from './activityDeps';
import { authenticator } from '../auth';
import type { ComputeBackend } from '../../ports/compute';
import { createCompute } from '../compute';
import { services, type Services } from '../services';
import { activityDepsOf, provideWorkflowPlatform, workflowPlatform, type WorkflowPlatform } from './platform';

/**
 * Binds the workflow side (routes, queue functions, activities) to the composition root.
 * Called once by the entry point. Builds the compute backend (once: the platform is
 * memoised), which Services does not hold yet.
 */
export function wireWorkflows(): void {
  provideWorkflowPlatform(
    async () => {
      const svc = await services();
      return platformOf(svc, await createCompute(svc.settings, svc.logger));
    },
    (request: HttpRequest) => authenticator().authenticate(request.headers),
  );
  provideActivityDeps(async () => activityDepsOf(await workflowPlatform()));
}

function platformOf(svc: Services, compute: ComputeBackend): WorkflowPlatform {
  return {
    compute,
    settings: svc.settings,
    ledger: svc.ledger,
    platformKeyStore: svc.keyStores.forOrg(svc.platform.org),
    log: svc.logger.child({ component: 'workflows' }),
    // As the platform identity: the job's launch was authorised by the lease check, and
    // the location is opened with the owner's key only inside this activity.
    locateDataset: async (datasetId) => {
      const record = await svc.ledger.as(svc.platform).getDataset(datasetId);
      if (record === undefined || record.deletedAt !== undefined) throw new LedgerflowError('gone', `dataset ${datasetId} is gone`);
      const keyStore = svc.keyStores.forOrg(record.owner.org);
      const dataKey = await keyStore.get(dataKeyName(datasetId));
      if (dataKey === undefined) throw new LedgerflowError('gone', `the key of dataset ${datasetId} is gone`);
      const location = unsealLocation(record.sealedLocation, dataKey, datasetId);
      if (location.kind !== 'azure-files') return { location };
      const credential = await keyStore.get(location.credentialRef);
      return credential === undefined ? { location } : { location, credential };
    },
  };
}
