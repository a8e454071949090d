import { routes } from '../src/api/routes';
import { submissionOf, type Submission } from '../src/api/workflowRequests';
import { authRoute } from './http/authRoute';
import { byteResponse, tailResponse } from './http/byteResponse';

/**
 * The workflow API (DESIGN.md): submit, list, read, cancel, logs, result files, receipt, and
 * the owners' review of the outputs. Thin:
 * authRoute authenticates and validates against the route table (src/api/routes.ts), then
 * WorkflowService does the work. Runs are read and driven through the durable client, so
 * every route is declared `durable`.
 */
const durable = { durable: true } as const;

authRoute<typeof routes.workflowsSubmit, Submission>(
  routes.workflowsSubmit,
  async ({ request, services, caller, body, runs }) => {
    const { id } = await (await services.workflowService(runs)).submit(caller, body);
    const statusUrl = new URL(`/api/workflows/${encodeURIComponent(id)}`, request.url).toString();
    return { status: 202, body: { id, statusUrl }, headers: { location: statusUrl } };
  },
  { ...durable, readBody: async (request) => submissionOf(request.headers.get('content-type'), await request.text(), request.query) },
);

authRoute(
  routes.workflowsList,
  async ({ services, caller, query, runs }) => ({
    body: await (
      await services.workflowService(runs)
    ).list(caller, {
      limit: query.limit,
      ...(query.cursor !== undefined && { cursor: query.cursor }),
      ...(query.status !== undefined && { status: query.status }),
    }),
  }),
  durable,
);

authRoute(
  routes.workflowsGet,
  async ({ services, caller, params, runs }) => ({ body: await (await services.workflowService(runs)).get(caller, params.id) }),
  durable,
);

authRoute(
  routes.workflowsCancel,
  async ({ services, caller, params, runs }) => {
    await (await services.workflowService(runs)).cancel(caller, params.id);
    return { status: 202, body: { id: params.id, status: 'canceling' } };
  },
  durable,
);

authRoute(
  routes.workflowsDelete,
  async ({ services, caller, params, runs }) => ({ body: await (await services.workflowService(runs)).delete(caller, params.id) }),
  durable,
);

authRoute(
  routes.workflowsJobLogs,
  async ({ request, services, caller, params, query, runs }) => {
    const service = await services.workflowService(runs);
    if (query.tail !== undefined) return { raw: tailResponse(await service.logTail(caller, params.id, params.job, query.tail), 'text/plain; charset=utf-8') };
    return { raw: await byteResponse(request, await service.logs(caller, params.id, params.job), 'text/plain; charset=utf-8') };
  },
  durable,
);

authRoute(
  routes.workflowsFile,
  async ({ request, services, caller, params, runs }) => {
    const content = await (await services.workflowService(runs)).file(caller, params.id, params.path);
    return { raw: await byteResponse(request, content, 'application/octet-stream') };
  },
  durable,
);

authRoute(
  routes.workflowsResults,
  async ({ services, caller, params, runs }) => ({ body: await (await services.resultsService(runs)).results(caller, params.id) }),
  durable,
);

authRoute(
  routes.workflowsResultsRelease,
  async ({ services, caller, params, runs }) => ({ body: await (await services.resultsService(runs)).decide(caller, params.id, { decision: 'release' }) }),
  durable,
);

authRoute(
  routes.workflowsResultsReject,
  async ({ services, caller, params, body, runs }) => ({
    body: await (await services.resultsService(runs)).decide(caller, params.id, { decision: 'reject', reason: body.reason }),
  }),
  durable,
);

authRoute(routes.workflowsReceipt, async ({ services, caller, params, runs }) => ({ body: await services.receipt(runs, caller, params.id) }), durable);
