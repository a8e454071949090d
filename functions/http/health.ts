import { routes } from '../../src/api/routes';
import { settings } from '../../src/config/settings';
import { describeCompute } from '../../src/app/compute';
import { appVersion as version } from './appVersion';
import { jsonRoute } from './jsonRoute';

const r = routes.health;
jsonRoute(r.name, {
  methods: [r.method],
  route: r.path,
  handler: () => {
    const s = settings();
    const compute = describeCompute(s);
    return {
      body: {
        // Still 200: the host is alive, but local jobs cannot run without a sandbox.
        status: 'sandbox' in compute && compute.sandbox === 'none' ? 'degraded' : 'ok',
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
      },
    };
  },
});
