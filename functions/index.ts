/**
 * The app's entry point (package.json `main`): importing a trigger module registers its
 * functions with `@azure/functions`. The same compiled app runs under the embedded host
 * (`npm start`), `func start` and Azure Functions; nothing here knows which.
 */
// First: parts of zod and durable-functions that no start needs load on first use.
import '../src/loading/deferredModules';
import './appSettings';
import { app } from '@azure/functions';
import './http/health';
import './http/openapi';
import './http/me';
import './console';
import './datasets';
import './leases';
import './leaseExpiry';
import './ledgerEvents';
import './lifecycle';
import './workflows';
import './approvals';
import './schedules';
import './jobCallback';
import './jobExits';
import './cleanup';
import './retention';
import '../orchestrators';

// Result files and logs are streamed, not buffered (functions/http/byteResponse.ts); Azure
// Functions (host 4.28+) and the embedded host both forward requests to the worker's proxy.
app.setup({ enableHttpStream: true });
