import { z } from 'zod';
import { once } from '../core/once';
import { datasetIdParam, leaseBody, listQuery, pushBody, registerBody, treeQuery, updateBody } from './datasetRequests';
import { completionReportSchema } from './messages';
import { approvalFileParams, approvalListQuery, approvalParams, approveBody, rejectBody, resultsRejectBody } from './approvalRequests';
import { createScheduleBody, patchScheduleBody, scheduleIdParam } from './scheduleRequests';
import { filePathSchema, listQuerySchema as workflowListQuery, logQuerySchema, submitBodySchema } from './workflowRequests';
import * as s from './schemas';

/**
 * The route table: every HTTP route of the API with the schemas that validate its input
 * and describe its answers. The OpenAPI document is generated from it (src/api/openapi.ts);
 * the triggers in functions/ take their validation schemas from the same entries, so a
 * route's contract is written once.
 *
 * Its schema fields are getters (`route`): a route's schemas are built when it validates a
 * request (or the OpenAPI document is built), and the app's entry loads the modules that
 * hold them on first use too (src/loading/deferredModules.ts); building them all was about a
 * twentieth of a host start, spent before the first request of any kind.
 */
export type ApiMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface ApiResponse {
  readonly description: string;
  /** JSON body schema; absent for empty (204) or non-JSON answers. */
  readonly schema?: z.ZodType;
  /** Non-JSON answers (logs, result files). */
  readonly contentType?: string;
}

/** The groups of the API, each with the description the OpenAPI document gives it. */
export const apiTags = {
  platform: 'Liveness, version and this document (anonymous); who the caller is',
  datasets: "Register, read, update and delete datasets; the owner's policy decides leases, consent and results",
  leases: 'Take and release the one lease a dataset has at a time (a ledger transaction each)',
  workflows: 'Submit workflows that run beside leased datasets, follow them, read their logs and result files',
  approvals: "The owners' consent to a lessee's exact workflow, recorded on the ledger",
  schedules: 'Run a workflow on a schedule or on each new version of a dataset, as its creator, with every check of a submission',
  internal: 'Called by the compute backends, not by people: job completion reports',
} as const;
export type ApiTag = keyof typeof apiTags;

/** Routes that take nothing refuse query parameters they do not know, rather than ignore a
 * typo silently (and so a client learns from a 400 what it sent wrong). */
const noQuery = z.object({}).strict();

/**
 * The path segment every API route starts with. host.json sets `extensions.http.routePrefix`
 * to "" (so the console can be served at `/`, functions/console.ts) and each API function
 * carries the prefix in its own route instead: `/api/...` stays where clients know it, on
 * Azure Functions and on the embedded host alike.
 */
export const API_PREFIX = 'api';

/** The Functions route of an API path of the table (`datasets/{id}` -> `api/datasets/{id}`). */
export const functionRoute = (path: string): string => `${API_PREFIX}/${path}`;

export interface ApiRoute {
  /** The Functions function name; also the OpenAPI operationId. */
  readonly name: string;
  readonly method: ApiMethod;
  /** Route template under /api, as the Functions host takes it: `datasets/{id}`. */
  readonly path: string;
  readonly tag: ApiTag;
  readonly summary: string;
  /** Who may call: `user` (a bearer token of LEDGERFLOW_TOKENS, or App Service
   * authentication), `callback` (a job attempt's callback token), `none` (liveness and this
   * document). */
  readonly auth: 'user' | 'callback' | 'none';
  readonly params?: z.ZodObject;
  readonly query?: z.ZodObject;
  readonly body?: z.ZodType;
  /** Raw request bodies accepted besides JSON (POST /workflows takes plain YAML). */
  readonly rawBody?: { readonly contentType: string; readonly description: string };
  /** Success answers and the errors particular to the route; 400 (when it takes input),
   * 401 (when it authenticates), 500 and 503 are added to every route by the generator. */
  readonly responses: Readonly<Record<number, ApiResponse>>;
}

const datasetParams = once(() => z.object({ id: datasetIdParam }));
const workflowParams = once(() => z.object({ id: z.string().min(1).max(128) }));
const jobLogParams = once(() => z.object({ id: workflowParams().shape.id, job: z.string().min(1).max(64) }));
const fileParams = once(() => z.object({ id: workflowParams().shape.id, path: filePathSchema }));

const scheduleParams = once(() => z.object({ id: scheduleIdParam }));
const scheduleNotFound = (): ApiResponse => ({ description: "no such schedule of the caller's organization", schema: s.errorBody });

const notFound = (): ApiResponse => ({ description: 'no such dataset', schema: s.errorBody });
const gone = (): ApiResponse => ({ description: 'gone: the dataset was deleted', schema: s.errorBody });
const forbidden = (why: string): ApiResponse => ({ description: why, schema: s.errorBody });
const workflowNotFound = (): ApiResponse => ({ description: 'no such workflow visible to the caller', schema: s.errorBody });
const approvalNotFound = (): ApiResponse => ({
  description: "no such run visible to the caller (its requester's organization and its datasets' owners see it)",
  schema: s.errorBody,
});
const notDatasetOwner = (): ApiResponse => forbidden("the caller's organization owns none of the run's datasets (the requester cannot decide)");
const pendingReview = (): ApiResponse =>
  forbidden(
    "results_pending_review: a dataset's owner reviews the run's outputs and has not released them (the reviewing owners read them); forbidden: the outputs were rejected, or exceeded maxResultBytes",
  );
const notResultsReviewer = (): ApiResponse =>
  forbidden('only an organization reviewing the outputs (owner of a dataset whose policy says results: review) may decide; the requester cannot');
const resultsDecided = (): ApiResponse => ({
  description: "the caller organization's review is already decided, or the run has not finished",
  schema: s.errorBody,
});
const alreadyDecided = (): ApiResponse => ({
  description: "the caller organization's requests are already decided, or the run is no longer waiting",
  schema: s.errorBody,
});

type SchemaField = 'params' | 'query' | 'body' | 'responses';
const schemaFields: ReadonlySet<string> = new Set<SchemaField>(['params', 'query', 'body', 'responses']);

/** A route as the table writes it: each schema field is the function that builds it. */
type WrittenRoute = Omit<ApiRoute, SchemaField> & {
  readonly params?: () => z.ZodObject;
  readonly query?: () => z.ZodObject;
  readonly body?: () => z.ZodType;
  readonly responses: () => Readonly<Record<number, ApiResponse>>;
};
type BuiltRoute<W> = { readonly [K in keyof W]: K extends SchemaField ? (W[K] extends () => infer V ? V : never) : W[K] };

/** The route with each schema field a getter over its function, so it is built when read. */
function route<const W extends WrittenRoute>(written: W): BuiltRoute<W> {
  const built: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(written)) {
    if (schemaFields.has(key)) Object.defineProperty(built, key, { get: value as () => unknown, enumerable: true });
    else built[key] = value;
  }
  return built as BuiltRoute<W>;
}

export const routes = {
  health: route({
    name: 'health',
    method: 'GET',
    path: 'health',
    tag: 'platform',
    auth: 'none',
    summary: 'Liveness and the adapters in use',
    query: () => noQuery,
    responses: () => ({ 200: { description: 'the platform is up', schema: s.health } }),
  }),
  openapi: route({
    name: 'openapi',
    method: 'GET',
    path: 'openapi.json',
    tag: 'platform',
    auth: 'none',
    summary: 'This document',
    query: () => noQuery,
    responses: () => ({ 200: { description: 'the OpenAPI 3.1 document of the API', contentType: 'application/json' } }),
  }),
  me: route({
    name: 'me',
    method: 'GET',
    path: 'me',
    tag: 'platform',
    auth: 'user',
    summary: 'Who the caller is: the user and organization its credential names (the web console shows it and offers what that organization may do)',
    query: () => noQuery,
    responses: () => ({ 200: { description: 'the caller', schema: s.identity } }),
  }),
  datasetsRegister: route({
    name: 'datasetsRegister',
    method: 'POST',
    path: 'datasets',
    tag: 'datasets',
    auth: 'user',
    summary: "Register a dataset owned by the caller's organization",
    body: () => registerBody,
    responses: () => ({ 201: { description: 'registered', schema: s.dataset } }),
  }),
  datasetsList: route({
    name: 'datasetsList',
    method: 'GET',
    path: 'datasets',
    tag: 'datasets',
    auth: 'user',
    summary: 'List datasets with their lease state',
    query: () => listQuery,
    responses: () => ({ 200: { description: 'a page of datasets', schema: s.datasetPage } }),
  }),
  datasetsGet: route({
    name: 'datasetsGet',
    method: 'GET',
    path: 'datasets/{id}',
    tag: 'datasets',
    auth: 'user',
    summary: 'Read a dataset',
    params: datasetParams,
    responses: () => ({ 200: { description: 'the dataset', schema: s.dataset }, 404: notFound(), 410: gone() }),
  }),
  datasetsUpdate: route({
    name: 'datasetsUpdate',
    method: 'PATCH',
    path: 'datasets/{id}',
    tag: 'datasets',
    auth: 'user',
    summary: 'Update name, description or policy (owner only)',
    params: datasetParams,
    body: () => updateBody,
    responses: () => ({
      200: { description: 'the updated dataset', schema: s.dataset },
      403: forbidden('the caller does not own the dataset'),
      404: notFound(),
      410: gone(),
    }),
  }),
  datasetsDelete: route({
    name: 'datasetsDelete',
    method: 'DELETE',
    path: 'datasets/{id}',
    tag: 'datasets',
    auth: 'user',
    summary: 'Delete a dataset and purge its key (owner only)',
    params: datasetParams,
    responses: () => ({
      200: { description: 'deleted; cryptoShred tells whether the key was purged', schema: s.deletedDataset },
      403: forbidden('the caller does not own the dataset'),
      404: notFound(),
      410: gone(),
    }),
  }),
  datasetsTree: route({
    name: 'datasetsTree',
    method: 'GET',
    path: 'datasets/{id}/tree',
    tag: 'datasets',
    auth: 'user',
    summary: 'List the files of a dataset (owner or current lease holder)',
    params: datasetParams,
    query: () => treeQuery,
    responses: () => ({
      200: { description: 'a page of files', schema: s.treePage },
      403: forbidden('neither owner nor lease holder'),
      404: notFound(),
      410: gone(),
    }),
  }),
  datasetsPushFiles: route({
    name: 'datasetsPushFiles',
    method: 'PUT',
    path: 'datasets/{id}/files',
    tag: 'datasets',
    auth: 'user',
    summary: 'Add a new content version (owner only), recorded on the ledger as dataset-updated',
    params: datasetParams,
    body: () => pushBody,
    responses: () => ({
      200: { description: 'the dataset at its new version, with its content hash', schema: s.dataset },
      403: forbidden('the caller does not own the dataset'),
      404: notFound(),
      409: { description: 'another push took this version number first; push again', schema: s.errorBody },
      410: gone(),
    }),
  }),
  datasetsHistory: route({
    name: 'datasetsHistory',
    method: 'GET',
    path: 'datasets/{id}/history',
    tag: 'datasets',
    auth: 'user',
    summary: 'The ledger history of a dataset',
    params: datasetParams,
    responses: () => ({ 200: { description: 'every transaction that touched the dataset, oldest first', schema: s.history }, 404: notFound(), 410: gone() }),
  }),
  leasesTake: route({
    name: 'leasesTake',
    method: 'POST',
    path: 'datasets/{id}/lease',
    tag: 'leases',
    auth: 'user',
    summary: 'Take the lease of a dataset',
    params: datasetParams,
    body: () => leaseBody,
    responses: () => ({
      201: { description: 'leased', schema: s.leaseTaken },
      404: notFound(),
      410: gone(),
      409: { description: 'lease_held: another holder has it; the error carries holder and expiresAt', schema: s.errorBody },
    }),
  }),
  leasesRelease: route({
    name: 'leasesRelease',
    method: 'DELETE',
    path: 'datasets/{id}/lease',
    tag: 'leases',
    auth: 'user',
    summary: 'Release a lease (holder or owner)',
    params: datasetParams,
    responses: () => ({ 204: { description: 'released' }, 403: forbidden('neither holder nor owner'), 404: notFound(), 410: gone() }),
  }),
  workflowsSubmit: route({
    name: 'workflowsSubmit',
    method: 'POST',
    path: 'workflows',
    tag: 'workflows',
    auth: 'user',
    summary: 'Submit a workflow run',
    body: () => submitBodySchema,
    rawBody: { contentType: 'application/yaml', description: 'the workflow.yaml text alone (no code files)' },
    responses: () => ({
      202: { description: 'accepted; poll statusUrl', schema: s.workflowAccepted },
      403: forbidden('the workflow mounts a dataset the caller has not leased (details name each volume)'),
    }),
  }),
  workflowsList: route({
    name: 'workflowsList',
    method: 'GET',
    path: 'workflows',
    tag: 'workflows',
    auth: 'user',
    summary: "Runs of the caller's organization, newest first",
    query: () => workflowListQuery,
    responses: () => ({ 200: { description: 'a page of runs', schema: s.workflowPage } }),
  }),
  workflowsGet: route({
    name: 'workflowsGet',
    method: 'GET',
    path: 'workflows/{id}',
    tag: 'workflows',
    auth: 'user',
    summary: 'Status of a run and of each job',
    params: workflowParams,
    responses: () => ({ 200: { description: 'the run', schema: s.workflowView }, 404: workflowNotFound() }),
  }),
  workflowsCancel: route({
    name: 'workflowsCancel',
    method: 'POST',
    path: 'workflows/{id}/cancel',
    tag: 'workflows',
    auth: 'user',
    summary: 'Stop a run; cleanup follows',
    params: workflowParams,
    responses: () => ({
      202: { description: 'cancel requested', schema: s.workflowCanceling },
      404: workflowNotFound(),
      409: { description: 'the run has already finished', schema: s.errorBody },
    }),
  }),
  workflowsDelete: route({
    name: 'workflowsDelete',
    method: 'DELETE',
    path: 'workflows/{id}',
    tag: 'workflows',
    auth: 'user',
    summary: 'Purge a finished run now: workspace, logs, durable state, queue messages (the ledger keeps its records)',
    params: workflowParams,
    responses: () => ({
      200: { description: 'purged', schema: s.workflowDeleted },
      404: workflowNotFound(),
      409: { description: 'the run is still running or cleaning up', schema: s.errorBody },
    }),
  }),
  workflowsJobLogs: route({
    name: 'workflowsJobLogs',
    method: 'GET',
    path: 'workflows/{id}/jobs/{job}/logs',
    tag: 'workflows',
    auth: 'user',
    summary: "A job's output, whole, from a byte offset (Range), its last lines (tail), its recent lines (since), with times (timestamps)",
    params: jobLogParams,
    query: () => logQuerySchema,
    responses: () => ({
      200: {
        description: 'stdout and stderr of the job; with since or timestamps, the chosen lines (a Range is then refused with 400 bad_request)',
        contentType: 'text/plain',
      },
      206: { description: 'the part a Range or tail asked for, placed by Content-Range', contentType: 'text/plain' },
      403: pendingReview(),
      404: { description: 'no such workflow or job, or the job has not started', schema: s.errorBody },
    }),
  }),
  workflowsFile: route({
    name: 'workflowsFile',
    method: 'GET',
    path: 'workflows/{id}/files/{*path}',
    tag: 'workflows',
    auth: 'user',
    summary: 'A result file from the workflow workspace',
    params: fileParams,
    responses: () => ({
      200: { description: 'the raw file', contentType: 'application/octet-stream' },
      403: pendingReview(),
      404: { description: 'no such workflow or file', schema: s.errorBody },
    }),
  }),
  workflowsResults: route({
    name: 'workflowsResults',
    method: 'GET',
    path: 'workflows/{id}/results',
    tag: 'workflows',
    auth: 'user',
    summary: "The run's outputs (files and logs, with sha256) and the owners' review of them, as the ledger recorded them",
    params: workflowParams,
    responses: () => ({
      200: { description: 'the outputs and their state', schema: s.workflowResults },
      404: { description: 'no such run visible to the caller (its requester and the reviewing owners see it), or nothing recorded', schema: s.errorBody },
      409: { description: 'the run has not finished', schema: s.errorBody },
    }),
  }),
  workflowsResultsRelease: route({
    name: 'workflowsResultsRelease',
    method: 'POST',
    path: 'workflows/{id}/results/release',
    tag: 'workflows',
    auth: 'user',
    summary: "Release the outputs for the caller organization's datasets (on the ledger, naming the hash of every output, checked again first)",
    params: workflowParams,
    responses: () => ({
      200: { description: 'the outputs and their state after the decision', schema: s.workflowResults },
      403: notResultsReviewer(),
      404: workflowNotFound(),
      409: resultsDecided(),
    }),
  }),
  workflowsResultsReject: route({
    name: 'workflowsResultsReject',
    method: 'POST',
    path: 'workflows/{id}/results/reject',
    tag: 'workflows',
    auth: 'user',
    summary: 'Reject the outputs (on the ledger): they are never served and are deleted',
    params: workflowParams,
    body: () => resultsRejectBody,
    responses: () => ({
      200: { description: 'the outputs and their state after the decision', schema: s.workflowResults },
      403: notResultsReviewer(),
      404: workflowNotFound(),
      409: resultsDecided(),
    }),
  }),
  workflowsReceipt: route({
    name: 'workflowsReceipt',
    method: 'GET',
    path: 'workflows/{id}/receipt',
    tag: 'workflows',
    auth: 'user',
    summary: 'Every ledger transaction of a run, with its block number; `ledgerflow receipt verify` checks it against the ledger',
    params: workflowParams,
    responses: () => ({
      200: { description: 'the receipt (no secret, no dataset location)', schema: s.workflowReceipt },
      404: { description: "no such run visible to the caller (its requester's organization and its datasets' owners see it)", schema: s.errorBody },
    }),
  }),
  approvalsList: route({
    name: 'approvalsList',
    method: 'GET',
    path: 'approvals',
    tag: 'approvals',
    auth: 'user',
    summary: "Approval requests on datasets the caller's organization owns, newest first",
    query: () => approvalListQuery,
    responses: () => ({ 200: { description: 'a page of requests', schema: s.approvalPage } }),
  }),
  approvalsGet: route({
    name: 'approvalsGet',
    method: 'GET',
    path: 'approvals/{workflowId}',
    tag: 'approvals',
    auth: 'user',
    summary: 'What the run would execute: the YAML and every code file with its sha256 (owners of its datasets, and the requester)',
    params: () => approvalParams,
    responses: () => ({ 200: { description: 'the run under review', schema: s.approvalReview }, 404: approvalNotFound() }),
  }),
  approvalsFile: route({
    name: 'approvalsFile',
    method: 'GET',
    path: 'approvals/{workflowId}/files/{*path}',
    tag: 'approvals',
    auth: 'user',
    summary: 'One code file of a run under review, as submitted',
    params: () => approvalFileParams,
    responses: () => ({
      200: { description: 'the raw file', contentType: 'application/octet-stream' },
      404: { description: 'no such run visible to the caller, or no such file', schema: s.errorBody },
    }),
  }),
  approvalsApprove: route({
    name: 'approvalsApprove',
    method: 'POST',
    path: 'approvals/{workflowId}/approve',
    tag: 'approvals',
    auth: 'user',
    summary: "Approve the run's requests on the caller organization's datasets (on the ledger)",
    params: () => approvalParams,
    body: () => approveBody,
    responses: () => ({
      200: { description: "the caller organization's decided requests", schema: s.approvalDecided },
      403: notDatasetOwner(),
      404: approvalNotFound(),
      409: alreadyDecided(),
    }),
  }),
  approvalsReject: route({
    name: 'approvalsReject',
    method: 'POST',
    path: 'approvals/{workflowId}/reject',
    tag: 'approvals',
    auth: 'user',
    summary: 'Reject the run (on the ledger): it ends as Rejected and nothing runs',
    params: () => approvalParams,
    body: () => rejectBody,
    responses: () => ({
      200: { description: "the caller organization's decided requests", schema: s.approvalDecided },
      403: notDatasetOwner(),
      404: approvalNotFound(),
      409: alreadyDecided(),
    }),
  }),
  jobCallback: route({
    name: 'jobCallback',
    method: 'POST',
    path: 'callbacks/jobs',
    tag: 'internal',
    auth: 'callback',
    summary: "A compute backend reports that a job attempt ended; the bearer is the attempt's callback token, not a user token",
    body: () => completionReportSchema,
    responses: () => ({ 202: { description: 'accepted (repeated reports are accepted and dropped)', schema: s.callbackAccepted } }),
  }),
  schedulesCreate: route({
    name: 'schedulesCreate',
    method: 'POST',
    path: 'schedules',
    tag: 'schedules',
    auth: 'user',
    summary: 'Create a schedule (NCRONTAB) or a data trigger (a dataset version) that submits a workflow',
    body: () => createScheduleBody,
    responses: () => ({
      201: { description: 'created', schema: s.schedule },
      403: forbidden('the caller neither owns nor leases a dataset the workflow mounts or watches'),
      404: { description: 'a dataset the workflow mounts or watches does not exist', schema: s.errorBody },
    }),
  }),
  schedulesList: route({
    name: 'schedulesList',
    method: 'GET',
    path: 'schedules',
    tag: 'schedules',
    auth: 'user',
    summary: "The caller's organization's schedules, newest first",
    query: () => noQuery,
    responses: () => ({ 200: { description: 'the schedules', schema: s.schedulePage } }),
  }),
  schedulesGet: route({
    name: 'schedulesGet',
    method: 'GET',
    path: 'schedules/{id}',
    tag: 'schedules',
    auth: 'user',
    summary: 'Read a schedule with its recorded ticks, newest first',
    params: scheduleParams,
    responses: () => ({ 200: { description: 'the schedule', schema: s.schedule }, 404: scheduleNotFound() }),
  }),
  schedulesUpdate: route({
    name: 'schedulesUpdate',
    method: 'PATCH',
    path: 'schedules/{id}',
    tag: 'schedules',
    auth: 'user',
    summary: 'Enable, disable, rename or reschedule; answers once the schedule has taken the change',
    params: scheduleParams,
    body: () => patchScheduleBody,
    responses: () => ({ 200: { description: 'the changed schedule', schema: s.schedule }, 404: scheduleNotFound() }),
  }),
  schedulesDelete: route({
    name: 'schedulesDelete',
    method: 'DELETE',
    path: 'schedules/{id}',
    tag: 'schedules',
    auth: 'user',
    summary: 'Delete a schedule (the runs it submitted are not touched)',
    params: scheduleParams,
    responses: () => ({ 204: { description: 'deleted' }, 404: scheduleNotFound() }),
  }),
} as const satisfies Record<string, ApiRoute>;

export const routeTable: readonly ApiRoute[] = Object.values(routes);
