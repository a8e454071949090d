import { app } from '@azure/functions';
import { CONSOLE_ROUTE, consoleAnswer } from '../src/app/console/staticFiles';

/** GET / and the console's static files (src/app/console/staticFiles.ts), anonymous: the
 * console signs in against the API, which checks every call. */
app.http('console', {
  methods: ['GET'],
  route: CONSOLE_ROUTE,
  authLevel: 'anonymous',
  handler: (request) => {
    const answer = consoleAnswer(request.params['path'] ?? '');
    return { status: answer.status, headers: answer.headers, body: answer.body };
  },
});
