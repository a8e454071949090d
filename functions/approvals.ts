import { routes } from '../src/api/routes';
import { authRoute } from './http/authRoute';

/** The owners' consent routes: list, review, approve, reject. Decisions go to the ledger and
 * then to the waiting run, so each route is declared `durable`. */
const durable = { durable: true } as const;

authRoute(
  routes.approvalsList,
  async ({ services, caller, query, runs }) => ({
    body: await (
      await services.approvalService(runs)
    ).list(caller, {
      limit: query.limit,
      ...(query.state !== undefined && { state: query.state }),
      ...(query.cursor !== undefined && { cursor: query.cursor }),
    }),
  }),
  durable,
);

authRoute(
  routes.approvalsGet,
  async ({ services, caller, params, runs }) => ({
    body: await (await services.approvalService(runs)).review(caller, params.workflowId),
  }),
  durable,
);

authRoute(
  routes.approvalsFile,
  async ({ services, caller, params, runs }) => ({
    raw: {
      status: 200,
      body: await (await services.approvalService(runs)).file(caller, params.workflowId, params.path),
      headers: { 'content-type': 'application/octet-stream' },
    },
  }),
  durable,
);

authRoute(
  routes.approvalsApprove,
  async ({ services, caller, params, body, runs }) => ({
    body: await (
      await services.approvalService(runs)
    ).decide(caller, params.workflowId, {
      decision: 'approve',
      reuse: body.reuse,
      ...(body.comment !== undefined && { comment: body.comment }),
    }),
  }),
  durable,
);

authRoute(
  routes.approvalsReject,
  async ({ services, caller, params, body, runs }) => ({
    body: await (await services.approvalService(runs)).decide(caller, params.workflowId, { decision: 'reject', reason: body.reason }),
  }),
  durable,
);
