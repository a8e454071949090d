import * as df from 'durable-functions';
import type { HttpRequest, InvocationContext } from '@azure/functions';
import { jsonRoute } from './http/jsonRoute';
import { routes, type ApiRoute } from '../src/api/routes';
import { listQuerySchema, parsed, submissionOf } from '../src/api/workflowRequests';
import { authenticate, workflowPlatform, workflowService } from '../src/app/workflows/platform';
import { durableRunControl } from '../src/app/workflows/runControl';
import type { WorkflowService } from '../src/app/workflows/workflowService';
import type { Caller } from '../src/core/model';

/**
 * The workflow API (DESIGN.md): submit, list, read, cancel, logs, result files. Thin:
 * authenticate, validate, hand to WorkflowService. Runs are read and driven through the
 * durable client, so every route takes it as an input binding. Names, paths and schemas
 * are the route table's (src/api/routes.ts), which the OpenAPI document is built from.
 */
const durableClient = df.input.durableClient();

async function serviceFor(request: HttpRequest, context: InvocationContext): Promise<{ caller: Caller; service: WorkflowService }> {
  const caller = authenticate(request); // 401 before anything else is judged
  const platform = await workflowPlatform();
  return { caller, service: workflowService(platform, durableRunControl(df.getClient(context))) };
}

/** The route's path parameters, checked with the schema its OpenAPI entry publishes. */
function pathParams(route: ApiRoute, params: Record<string, string>): Record<string, string> {
  return route.params === undefined ? params : (parsed(route.params, params, 'path') as Record<string, string>);
}

jsonRoute(routes.workflowsSubmit.name, {
  methods: [routes.workflowsSubmit.method],
  route: routes.workflowsSubmit.path,
  extraInputs: [durableClient],
  handler: async ({ request, context, query }) => {
    const { caller, service } = await serviceFor(request, context);
    const submission = submissionOf(request.headers.get('content-type'), await request.text(), query);
    const { id } = await service.submit(caller, submission);
    const statusUrl = new URL(`/api/workflows/${encodeURIComponent(id)}`, request.url).toString();
    return { status: 202, body: { id, statusUrl }, headers: { location: statusUrl } };
  },
});

jsonRoute(routes.workflowsList.name, {
  methods: [routes.workflowsList.method],
  route: routes.workflowsList.path,
  extraInputs: [durableClient],
  handler: async ({ request, context, query }) => {
    const { caller, service } = await serviceFor(request, context);
    const q = parsed(listQuerySchema, Object.fromEntries(query), 'query');
    return { body: await service.list(caller, { limit: q.limit, ...(q.cursor !== undefined && { cursor: q.cursor }), ...(q.status !== undefined && { status: q.status }) }) };
  },
});

jsonRoute(routes.workflowsGet.name, {
  methods: [routes.workflowsGet.method],
  route: routes.workflowsGet.path,
  extraInputs: [durableClient],
  handler: async ({ request, context, params }) => {
    const { caller, service } = await serviceFor(request, context);
    const { id } = pathParams(routes.workflowsGet, params);
    return { body: await service.get(caller, id!) };
  },
});

jsonRoute(routes.workflowsCancel.name, {
  methods: [routes.workflowsCancel.method],
  route: routes.workflowsCancel.path,
  extraInputs: [durableClient],
  handler: async ({ request, context, params }) => {
    const { caller, service } = await serviceFor(request, context);
    const { id } = pathParams(routes.workflowsCancel, params);
    await service.cancel(caller, id!);
    return { status: 202, body: { id, status: 'canceling' } };
  },
});

jsonRoute(routes.workflowsJobLogs.name, {
  methods: [routes.workflowsJobLogs.method],
  route: routes.workflowsJobLogs.path,
  extraInputs: [durableClient],
  handler: async ({ request, context, params }) => {
    const { caller, service } = await serviceFor(request, context);
    const { id, job } = pathParams(routes.workflowsJobLogs, params);
    const text = await service.logs(caller, id!, job!);
    return { raw: { status: 200, body: text, headers: { 'content-type': 'text/plain; charset=utf-8' } } };
  },
});

jsonRoute(routes.workflowsFile.name, {
  methods: [routes.workflowsFile.method],
  route: routes.workflowsFile.path,
  extraInputs: [durableClient],
  handler: async ({ request, context, params }) => {
    const { caller, service } = await serviceFor(request, context);
    const { id, path } = pathParams(routes.workflowsFile, { ...params, path: params['path'] ?? '' });
    const content = await service.file(caller, id!, path!);
    return { raw: { status: 200, body: content, headers: { 'content-type': 'application/octet-stream' } } };
  },
});
