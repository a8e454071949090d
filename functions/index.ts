/**
 * The app's entry point (package.json `main`): importing a trigger module registers its
 * functions with `@azure/functions`. The same compiled app runs under the embedded host
 * (`npm start`), `func start` and Azure Functions; nothing here knows which.
 */
import './http/health';
import './http/openapi';
import './datasets';
import './leases';
import './leaseExpiry';
import './ledgerEvents';
import './lifecycle';
import './workflows';
import './jobCallback';
import './cleanup';
import '../orchestrators';
