import { createRequire } from 'node:module';
import { loadOnDemand, packageFile } from './onDemand';

/**
 * Imported first by the host's main and by the app's entry, before the packages below load:
 *
 * - zod requires all of its ~50 error-message locales at load (about a third of loading zod)
 *   and uses only English unless told otherwise (`z.config(z.locales.fr())`), which loads them.
 * - durable-functions requires its DurableClient half at load, from the SDK's entry and from
 *   `app.js` (for `df.app.client`): axios, form-data, validator, lodash, and Node's bundled
 *   undici (axios looks at `fetch`). No function makes a client before its first invocation;
 *   the first `df.getClient()` loads it.
 * - durable-functions also requires its replay half at load (the orchestration context with
 *   every action and task class, the executor, moment): registering an orchestrator or an
 *   activity only keeps the handler; the first episode, or the first activity an
 *   orchestrator calls, loads them (about 40 modules and a tenth of the host's start source).
 * - durable-functions' entity runtime (entities/Entity.js, with the debug package) is required
 *   at load by the SDK's test helpers, which build it only when an entity function is made.
 * - uuid (15 modules, all required by its entry) is required at load by durable-functions'
 *   test helpers, which its entry loads, and by the replay half; only a test context or an
 *   orchestration's newGuid calls it.
 * - yaml (about a twentieth of loading the app) parses workflow files, which the API reads
 *   only when a workflow is submitted, approved or scheduled; the route table imports it at
 *   load through the workflow spec.
 * - The route table's request and answer schemas (src/api), built when a route first
 *   validates or the OpenAPI document is made: the table reads them in getters. So are the
 *   ledger's record schemas, which the ledger follower reads with the first events. A module
 *   that something else reads at load loads then, as before.
 */
loadOnDemand(() => packageFile('zod', 'v4/locales/index.cjs'));
loadOnDemand(() => packageFile('durable-functions', 'lib/src/durableClient/getClient.js'));
for (const replay of [
  'orchestrations/DurableOrchestrationContext.js',
  'orchestrations/TaskOrchestrationExecutor.js',
  'task/RegisteredOrchestrationTask.js',
  'task/RegisteredActivityTask.js',
]) {
  loadOnDemand(() => packageFile('durable-functions', `lib/src/${replay}`));
}
// Entity functions: only an entity's first invocation runs one (the SDK makes its listener
// then); it brings the debug package.
loadOnDemand(() => packageFile('durable-functions', 'lib/src/entities/Entity.js'));
// The uuid durable-functions itself resolves to.
loadOnDemand(() => createRequire(packageFile('durable-functions', 'lib/src/index.js')).resolve('uuid'));
loadOnDemand(() => require.resolve('yaml'));
for (const api of ['datasetRequests', 'approvalRequests', 'scheduleRequests', 'workflowRequests', 'schemas', 'ledgerRecords']) {
  loadOnDemand(() => require.resolve(`../api/${api}`));
}
