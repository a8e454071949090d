import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { settings } from '../../src/config/settings';
import { describeCompute } from '../../src/app/compute';
import { jsonRoute } from './jsonRoute';

/** The app's version: package.json at the app root (dist/functions/http -> ../../..). */
const version = (JSON.parse(readFileSync(resolve(__dirname, '../../../package.json'), 'utf8')) as { version: string }).version;

jsonRoute('health', {
  methods: ['GET'],
  route: 'health',
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
