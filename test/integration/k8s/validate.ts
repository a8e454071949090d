/**
 * Schema validation with kubernetes-models (core and Argo Workflows): both are ESM with only
 * an `import` export, so they are loaded with dynamic import from this CommonJS build.
 */
type ModelClass = new (data: unknown) => { validate(): void };

function modelModule(apiVersion: string): string {
  const [group, version] = apiVersion.includes('/') ? (apiVersion.split('/') as [string, string]) : ['', apiVersion];
  if (group === '') return `kubernetes-models/${version}`;
  if (group === 'argoproj.io') return `@kubernetes-models/argo-workflows/argoproj.io/${version}`;
  return `kubernetes-models/${group}/${version}`;
}

/** Throws with the schema errors when `object` is not a valid instance of its kind. */
export async function validateManifest(object: { apiVersion?: string; kind?: string }): Promise<void> {
  if (object.apiVersion === undefined || object.kind === undefined) throw new Error('object without apiVersion or kind');
  const models = (await import(modelModule(object.apiVersion))) as Record<string, ModelClass | undefined>;
  const Model = models[object.kind];
  if (Model === undefined) throw new Error(`no model for ${object.apiVersion} ${object.kind}`);
  new Model(object).validate();
}
