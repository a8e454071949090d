import { routes } from '../../src/api/routes';
import { settings } from '../../src/config/settings';
import { app } from '@azure/functions';
import { describeCompute, probeLocalSandbox } from '../../src/app/compute';
import { storageHealth } from '../../src/app/storageHealth';
import { appVersion as version } from './appVersion';
import { jsonRoute } from './jsonRoute';

// The sandbox probe runs while the host finishes starting, so the first health answer
// does not wait for it (nor block the event loop on it).
app.hook.appStart(() => {
  const s = settings();
  if (s.COMPUTE === 'local') void probeLocalSandbox(s);
});

const r = routes.health;
jsonRoute(r.name, {
  methods: [r.method],
  route: r.path,
  query: r.query,
  handler: async () => {
    const s = settings();
    const compute = await describeCompute(s);
    const storage = storageHealth(s.LEDGERFLOW_DATA_DIR);
    const noSandbox = 'sandbox' in compute && compute.sandbox === 'none';
    return {
      body: {
        // Still 200: the host is alive, but local jobs cannot run without a sandbox, and
        // nothing can be written while the data disk is full.
        status: noSandbox || storage.status !== 'ok' ? 'degraded' : 'ok',
        version,
        adapters: {
          ledger: s.LEDGER,
          keyStore: s.KEY_STORE,
          storage: s.STORAGE,
          compute: s.COMPUTE,
          durable: s.LEDGERFLOW_HOST === 'embedded' ? 'embedded' : 'durable-functions',
          host: s.LEDGERFLOW_HOST,
        },
        compute,
        storage,
      },
    };
  },
});
