import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { RecordedRequest } from '../../fakes/kubernetesApi';

/** The repository's infra/k8s directory, from the compiled test's location (dist/test/...). */
export const INFRA_K8S = join(__dirname, '..', '..', '..', '..', 'infra', 'k8s');

export interface ManifestObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string> };
  [k: string]: unknown;
}

export function loadManifests(file: string): ManifestObject[] {
  return parseAllDocuments(readFileSync(join(INFRA_K8S, file), 'utf8')).map((d) => {
    if (d.errors.length > 0) throw new Error(`${file}: ${d.errors.map((e) => e.message).join('; ')}`);
    return d.toJS() as ManifestObject;
  });
}

interface Rule {
  apiGroups: string[];
  resources: string[];
  verbs: string[];
  resourceNames?: string[];
}

/** One `verb group/resource` grant per line, e.g. `create batch/jobs`, from a Role or ClusterRole. */
export function grants(role: ManifestObject): Set<string> {
  const out = new Set<string>();
  for (const rule of role['rules'] as Rule[]) {
    for (const group of rule.apiGroups) for (const resource of rule.resources) for (const verb of rule.verbs) out.add(`${verb} ${group}/${resource}`);
  }
  return out;
}

export const callOf = (r: RecordedRequest) => `${r.verb} ${r.group}/${r.resource}`;
