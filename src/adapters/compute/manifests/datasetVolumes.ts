import type { V1PersistentVolume, V1PersistentVolumeClaim, V1Secret } from '@kubernetes/client-node';
import { LedgerflowError } from '../../../core/errors';
import type { ResolvedVolume } from '../../../ports/compute';
import { ANNOTATIONS, names, runLabels } from './names';
import type { ClusterOptions } from './options';

/**
 * One leased dataset in one run: a PersistentVolume bound 1:1 to a claim (the PV names the
 * claim in `claimRef`, the claim names the PV in `volumeName`, both with an empty storage
 * class), read-only at every level. Azure Files datasets go through the Azure File CSI
 * driver, with the storage credential in a Secret of the run (deleted at cleanup);
 * local datasets are a `local` PV pinned to the node that holds them, or a hostPath PV on
 * a one-node cluster.
 */
export interface DatasetObjects {
  secret?: V1Secret;
  volume: V1PersistentVolume;
  claim: V1PersistentVolumeClaim;
  /** Directory inside the share to mount (volumeMount.subPath), if the dataset is one. */
  subPath?: string;
}

export const AZURE_FILE_DRIVER = 'file.csi.azure.com';
/** Written where a credential would go when manifests are rendered for reading, not applied. */
export const CREDENTIAL_PLACEHOLDER = '<from the key store at launch>';
/** Nominal: static PVs are not size-checked, but the field is required. */
const NOMINAL_CAPACITY = '1Gi';

export function datasetObjects(opts: ClusterOptions, workflowId: string, volume: ResolvedVolume, forDisplay = false): DatasetObjects {
  const name = names.datasetVolume(workflowId, volume.datasetId);
  const meta = {
    labels: runLabels(workflowId),
    annotations: { [ANNOTATIONS.datasetId]: volume.datasetId },
  };
  const location = volume.location;
  // hostPath and local volumes support ReadWriteOnce only (an access mode is what the volume
  // type can do, not how it is mounted); the pod mounts every dataset read-only either way.
  const accessModes = [location.kind === 'local' ? 'ReadWriteOnce' : 'ReadOnlyMany'];
  const claim: V1PersistentVolumeClaim = {
    apiVersion: 'v1',
    kind: 'PersistentVolumeClaim',
    metadata: { name, namespace: opts.namespace, ...meta },
    spec: { accessModes, storageClassName: '', volumeName: name, resources: { requests: { storage: NOMINAL_CAPACITY } } },
  };
  const common = {
    capacity: { storage: NOMINAL_CAPACITY },
    accessModes,
    persistentVolumeReclaimPolicy: 'Retain',
    storageClassName: '',
    claimRef: { apiVersion: 'v1', kind: 'PersistentVolumeClaim', namespace: opts.namespace, name },
  };
  if (location.kind === 'local') {
    const source =
      opts.localDatasetNode === ''
        ? { hostPath: { path: location.path, type: 'Directory' } }
        : {
            local: { path: location.path },
            nodeAffinity: {
              required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [opts.localDatasetNode] }] }] },
            },
          };
    return { claim, volume: { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name, ...meta }, spec: { ...common, ...source } } };
  }
  const share = parseShareUrl(location.shareUrl);
  const secretName = names.datasetSecret(workflowId, volume.datasetId);
  const key = forDisplay ? CREDENTIAL_PLACEHOLDER : accountKey(volume);
  const secret: V1Secret = {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretName, namespace: opts.namespace, ...meta },
    type: 'Opaque',
    stringData: { azurestorageaccountname: share.accountName, azurestorageaccountkey: key },
  };
  const pv: V1PersistentVolume = {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: { name, ...meta },
    spec: {
      ...common,
      mountOptions: ['dir_mode=0555', 'file_mode=0444', `uid=${opts.runAsUser}`, `gid=${opts.runAsUser}`, 'mfsymlinks', 'nosharesock'],
      csi: {
        driver: AZURE_FILE_DRIVER,
        readOnly: true,
        // Unique in the cluster; the driver forbids `#` in hand-made handles.
        volumeHandle: name,
        volumeAttributes: { shareName: share.shareName, storageAccount: share.accountName },
        nodeStageSecretRef: { name: secretName, namespace: opts.namespace },
      },
    },
  };
  return { secret, volume: pv, claim, ...(share.directory === '' ? {} : { subPath: share.directory }) };
}

/** SMB mounts need the account key: a SAS token (which the storage adapter accepts) cannot mount. */
function accountKey(volume: ResolvedVolume): string {
  const credential = volume.credential;
  if (credential === undefined || credential === '') {
    throw new LedgerflowError('unavailable', `dataset ${volume.datasetId} has no storage credential in the key store`);
  }
  if (/(^|[?&])sig=/.test(credential)) {
    throw new LedgerflowError(
      'bad_request',
      `dataset ${volume.datasetId} is registered with a SAS token; mounting Azure Files in Kubernetes needs the storage account key`,
    );
  }
  return credential;
}

interface ShareAddress {
  accountName: string;
  shareName: string;
  directory: string;
}

/** https://<account>.file.core.windows.net/<share>[/<dir>], or path-style http://host:port/<account>/<share>[/<dir>] (emulators). */
function parseShareUrl(raw: string): ShareAddress {
  const url = new URL(raw);
  const segments = url.pathname
    .split('/')
    .filter((s) => s !== '')
    .map(decodeURIComponent);
  const pathStyle = /^(\d+\.\d+\.\d+\.\d+|localhost|\[[0-9a-f:]+\])$/i.test(url.hostname);
  const [accountName, shareName, ...dir] = pathStyle ? segments : [url.hostname.split('.')[0] ?? '', ...segments];
  if (accountName === undefined || accountName === '' || shareName === undefined) {
    throw new LedgerflowError('bad_request', 'the dataset location does not name an Azure Files share');
  }
  return { accountName, shareName, directory: dir.join('/') };
}
