// First: every module after it loads from the compile cache.
import { flushCompileCache } from './compileCache';
// Then: parts of packages that no start needs load on first use.
import '../loading/deferredModules';
import { LedgerflowError } from '../core/errors';
import { HostConfigError } from './config/hostConfigError';
import type { HostExtension } from './extension';
import { durableExtension } from '../durable/hostExtension';
import { startHost, type RunningHost } from './host';

/**
 * `npm start`: the embedded Functions host running the ledgerflow app (or the app in
 * `LEDGERFLOW_APP_DIR`). Prints one line with the URL when ready; SIGINT/SIGTERM stop it
 * gracefully (exit 0); a second signal exits at once.
 */

/** Engines that add trigger kinds (the durable engine) add their HostExtension here. */
const extensions: HostExtension[] = [durableExtension()];

async function main(): Promise<void> {
  let host: RunningHost;
  try {
    host = await startHost({ extensions, onUnsupported: (table) => process.stderr.write(`${table}\n`) });
  } catch (err) {
    if (err instanceof HostConfigError || err instanceof LedgerflowError) {
      process.stderr.write(`ledgerflow host: ${err.message}\n`);
    } else {
      process.stderr.write(`ledgerflow host: failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    }
    process.exit(1);
  }
  // Synchronously, before the first request is served: the next start finds the code even
  // if this host never stops gracefully.
  flushCompileCache();
  process.once('exit', flushCompileCache);
  const { logger } = host.context;
  process.on('unhandledRejection', (reason) => logger.error({ err: reason }, 'unhandled promise rejection in the app'));

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals > 1) process.exit(1);
    logger.info({ signal }, 'shutting down');
    host.stop().then(
      () => logger.flush(() => process.exit(0)),
      (err: unknown) => {
        logger.error({ err }, 'shutdown failed');
        logger.flush(() => process.exit(1));
      },
    );
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);

  process.stdout.write(`ledgerflow host ready at ${host.url} (${host.context.functions().length} functions)\n`);
}

void main();
