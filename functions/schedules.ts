import { routes } from '../src/api/routes';
import { authRoute } from './http/authRoute';

/** The schedule routes (docs/schedules.md): thin over ScheduleService, which reaches each
 * schedule's eternal orchestration through the durable client. */
const durable = { durable: true } as const;

authRoute(
  routes.schedulesCreate,
  async ({ services, caller, body, runs }) => {
    const schedule = await services.scheduleService(runs).create(caller, body);
    return { status: 201, body: schedule, headers: { location: `/api/schedules/${schedule.id}` } };
  },
  durable,
);

authRoute(routes.schedulesList, async ({ services, caller, runs }) => ({ body: { items: await services.scheduleService(runs).list(caller) } }), durable);

authRoute(routes.schedulesGet, async ({ services, caller, params, runs }) => ({ body: await services.scheduleService(runs).get(caller, params.id) }), durable);

authRoute(
  routes.schedulesUpdate,
  async ({ services, caller, params, body, runs }) => ({ body: await services.scheduleService(runs).patch(caller, params.id, body) }),
  durable,
);

authRoute(
  routes.schedulesDelete,
  async ({ services, caller, params, runs }) => {
    await services.scheduleService(runs).delete(caller, params.id);
    return { status: 204 };
  },
  durable,
);
