import * as df from 'durable-functions';
import { jsonRoute } from './http/jsonRoute';
import { routes } from '../src/api/routes';
import { acceptCompletion, bearerOf } from '../src/app/workflows/callbacks';
import { services } from '../src/app/services';
import { durableRunControl } from '../src/app/workflows/runControl';
import { durableClientOf } from '../src/app/workflows/durableClient';

/**
 * POST /api/callbacks/jobs: a compute backend reports that a job attempt ended. The bearer
 * is the per-attempt callback token (not a user token); the report is passed to the job's
 * orchestration as `job-completed`.
 */
jsonRoute(routes.jobCallback.name, {
  methods: [routes.jobCallback.method],
  route: routes.jobCallback.path,
  body: routes.jobCallback.body,
  extraInputs: [df.input.durableClient()],
  handler: async ({ request, context, body }) => {
    const key = await (await services()).callbackKey();
    await acceptCompletion(body, bearerOf(request.headers.get('authorization')), key, durableRunControl(durableClientOf(context)));
    return { status: 202, body: { accepted: true } };
  },
});
