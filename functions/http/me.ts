import { routes } from '../../src/api/routes';
import { authRoute } from './authRoute';

/** GET /api/me: the authenticated caller, as every other route sees it. */
authRoute(routes.me, ({ caller }) => ({ body: { user: caller.user, org: caller.org } }));
