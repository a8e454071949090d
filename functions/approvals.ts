import * as df from 'durable-functions';
import type { InvocationContext } from '@azure/functions';
import { routes } from '../src/api/routes';
import { approvalService, workflowPlatform } from '../src/app/workflows/platform';
import { durableRunControl } from '../src/app/workflows/runControl';
import type { ApprovalService } from '../src/app/workflows/approvalService';
import { authRoute } from './http/authRoute';

/** The owners' consent routes: list, review, approve, reject. Decisions go to the ledger and
 * then to the waiting run, so each route takes the durable client as an input binding. */
const withDurableClient = { extraInputs: [df.input.durableClient()] };

async function approvals(context: InvocationContext): Promise<ApprovalService> {
  return approvalService(await workflowPlatform(), durableRunControl(df.getClient(context)));
}

authRoute(routes.approvalsList, async ({ context, caller, query }) => ({
  body: await (await approvals(context)).list(caller, {
    limit: query.limit, ...(query.state !== undefined && { state: query.state }), ...(query.cursor !== undefined && { cursor: query.cursor }),
  }),
}), withDurableClient);

authRoute(routes.approvalsGet, async ({ context, caller, params }) => ({
  body: await (await approvals(context)).review(caller, params.workflowId),
}), withDurableClient);

authRoute(routes.approvalsFile, async ({ context, caller, params }) => ({
  raw: { status: 200, body: await (await approvals(context)).file(caller, params.workflowId, params.path), headers: { 'content-type': 'application/octet-stream' } },
}), withDurableClient);

authRoute(routes.approvalsApprove, async ({ context, caller, params, body }) => ({
  body: await (await approvals(context)).decide(caller, params.workflowId, {
    decision: 'approve', reuse: body.reuse, ...(body.comment !== undefined && { comment: body.comment }),
  }),
}), withDurableClient);

authRoute(routes.approvalsReject, async ({ context, caller, params, body }) => ({
  body: await (await approvals(context)).decide(caller, params.workflowId, { decision: 'reject', reason: body.reason }),
}), withDurableClient);
