import { resolve } from 'node:path';
import { createLogger, type Logger } from '../observability/logger';
import { loadApp, type LoadedApp } from './app/loadApp';
import { createInvoker, formatUnsupportedTable, functionsFor, unsupportedFunctions } from './bindings';
import { HostConfigError } from './config/hostConfigError';
import { parseHostSettings } from './config/hostSettings';
import { readHostJson } from './config/hostJson';
import { applyLocalSettings } from './config/localSettings';
import { lockDataDir } from './dataDirLock';
import { makePrivate } from '../fs/privateDir';
import { InFlight } from './inFlight';
import { ADMIN_PREFIX, adminHandler, loadOrCreateAdminKey } from './admin';
import { EMBEDDED_HOST_VERSION } from './app/coreApi';
import type { HostContext, HostExtension } from './extension';
import { HttpServer } from './http/httpServer';
import { httpTriggerExtension } from './http/httpTrigger';
import { queueExtension } from './queue/queueExtension';
import { QueueStore } from './queue/queueStore';
import { timerExtension } from './timer/timerExtension';

export interface HostOptions {
  /** The function app: a directory with package.json `main` (default: env
   * `LEDGERFLOW_APP_DIR`, else the working directory). */
  readonly appDir?: string;
  /** Where settings come from and go to; default process.env (which the app reads too). */
  readonly env?: NodeJS.ProcessEnv;
  /** Extensions beyond the built-in http, timer and queue ones (e.g. the durable engine). */
  readonly extensions?: readonly HostExtension[];
  readonly logger?: Logger;
  /** Shown the table of functions that will not run locally (main.ts prints it to stderr). */
  readonly onUnsupported?: (table: string) => void;
}

export interface RunningHost {
  /** e.g. `http://127.0.0.1:7071` */
  readonly url: string;
  readonly port: number;
  readonly appDir: string;
  readonly dataDir: string;
  readonly context: HostContext;
  /** Graceful: stop accepting, let in-flight invocations finish (bounded), run appTerminate
   * hooks, close resources. Safe to call more than once. */
  stop(): Promise<void>;
}

/** Starts the embedded Functions host: settings, app, HTTP, then the extensions. */
/** How often the host looks for a quiet moment to compact its databases. */
const UPKEEP_INTERVAL_MS = 30_000;

export async function startHost(options: HostOptions = {}): Promise<RunningHost> {
  const env = options.env ?? process.env;
  const appDir = resolve(options.appDir ?? env['LEDGERFLOW_APP_DIR'] ?? process.cwd());
  applyLocalSettings(appDir, env);
  env['LEDGERFLOW_HOST'] = 'embedded';
  const settings = parseHostSettings(env);
  const logger = options.logger ?? createLogger({ level: settings.LOG_LEVEL, name: 'ledgerflow-host' });
  const hostJson = readHostJson(appDir);
  const dataDir = resolve(settings.LEDGERFLOW_DATA_DIR);
  const unlock = lockDataDir(dataDir);
  makePrivate(dataDir);

  const inFlight = new InFlight();
  const track = inFlight.track;
  const shutdown = new AbortController();
  const queues = new QueueStore(dataDir);
  const server = new HttpServer(logger, track);
  const extensions: HostExtension[] = [
    httpTriggerExtension({ maxBodyBytes: settings.LEDGERFLOW_MAX_BODY_BYTES }),
    timerExtension(),
    queueExtension(queues),
    ...(options.extensions ?? []),
  ];
  const started: HostExtension[] = [];
  let loadedApp: LoadedApp | undefined;

  let upkeep: NodeJS.Timeout | undefined;
  // Paused for a backup: invocations that are not HTTP requests (timers, queue messages,
  // orchestrator episodes, activities) wait here, before they count as work in flight.
  let resumed: Promise<void> | undefined;

  async function close(): Promise<void> {
    clearInterval(upkeep);
    server.closeAllConnections();
    await loadedApp?.close();
    for (const ext of [...started].reverse()) {
      try {
        await ext.close?.();
      } catch (err) {
        logger.error({ err, extension: ext.name }, 'extension close failed');
      }
    }
    queues.close();
    unlock();
  }

  try {
    const app = await loadApp(appDir, env, logger);
    loadedApp = app;
    const unsupported = unsupportedFunctions(app.registry.all(), extensions);
    if (unsupported.length > 0) {
      const table = formatUnsupportedTable(unsupported);
      if (settings.LEDGERFLOW_STRICT_BINDINGS) throw new HostConfigError(`LEDGERFLOW_STRICT_BINDINGS=true and some functions cannot run locally.\n${table}`);
      logger.warn({ unsupported }, 'functions with bindings the embedded host does not support');
      options.onUnsupported?.(table);
    }
    // A function whose trigger no extension claims never runs; one with an unsupported
    // input or output binding stays routable, and its invocations fail with 501.
    const untriggered = new Set(unsupported.filter((u) => u.effect === 'never triggered').map((u) => u.functionName));
    const runnable = app.registry.all().filter((fn) => !untriggered.has(fn.name));
    await app.hooks.run('appStart', app.hooks.context({}, { functionAppDirectory: appDir }));

    const address = await server.listen(settings.PORT, settings.LEDGERFLOW_BIND_ADDRESS);
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const baseUrl = `http://${host}:${address.port}`;
    // Where the app is reachable, as App Service and Core Tools tell their workers (the
    // durable-functions SDK builds its management URLs from it).
    env['WEBSITE_HOSTNAME'] ??= `${host}:${address.port}`;

    let resolveStarted = (): void => undefined;
    const allStarted = new Promise<void>((resolve) => (resolveStarted = resolve));
    let everyExtensionStarted = false;
    const markStarted = (): void => {
      everyExtensionStarted = true;
      resolveStarted();
    };
    const invoke = createInvoker(extensions, { programmingModel: app.programmingModel, hooks: app.hooks, logger }, logger);
    const context: HostContext = {
      appDir,
      dataDir,
      hostJson,
      logger,
      baseUrl,
      shutdownSignal: shutdown.signal,
      queues,
      workerHttpProxy: app.workerHttpProxy,
      functions: () => runnable,
      getFunction: (name) => runnable.find((fn) => fn.name.toLowerCase() === name.toLowerCase()),
      // Invocations an extension starts early (a timer's runOnStartup, the durable engine's
      // first episodes) wait until every extension runs: their bindings need all of them.
      invoke: (fn, input) =>
        resumed !== undefined && fn.trigger.type.toLowerCase() !== 'httptrigger'
          ? resumed.then(() => track(invoke(fn, input)))
          : track(everyExtensionStarted ? invoke(fn, input) : allStarted.then(() => invoke(fn, input))),
      mountHttp: (prefix, handler) => server.mount(prefix, handler),
      track,
    };

    for (const ext of extensions) {
      started.push(ext);
      try {
        await ext.start(context, functionsFor(ext, runnable));
      } catch (err) {
        logger.error({ err, extension: ext.name }, 'extension failed to start');
        throw new HostConfigError(`the ${ext.name} extension failed to start: ${(err as Error).message}`, { cause: err });
      }
    }

    // `ledgerflow admin backup`: pause new work, let the work in flight end, copy, resume.
    const pause = async (): Promise<() => void> => {
      let resume = (): void => undefined;
      resumed = new Promise<void>((r) => (resume = r));
      server.pausedPrefixes = ['/api'];
      const done = (): void => {
        server.pausedPrefixes = [];
        resumed = undefined;
        resume();
      };
      const left = await inFlight.drain(settings.LEDGERFLOW_SHUTDOWN_TIMEOUT_MS);
      if (left > 0) {
        done();
        throw new Error(`${left} invocations were still running after ${settings.LEDGERFLOW_SHUTDOWN_TIMEOUT_MS} ms; nothing was copied`);
      }
      logger.info('work paused for a backup');
      return () => {
        done();
        logger.info('work resumed after a backup');
      };
    };
    server.mount(ADMIN_PREFIX, adminHandler({ dataDir, key: loadOrCreateAdminKey(dataDir), logger, hostVersion: EMBEDDED_HOST_VERSION, pause }), {
      untracked: true,
    });

    markStarted();
    server.ready();
    // Compaction in a quiet moment: when nothing is in flight, each database gives back the
    // pages purges freed and empties its WAL (src/fs/sqliteUpkeep.ts). A step with nothing
    // to do costs a checkpoint of an empty WAL.
    upkeep = setInterval(() => {
      if (inFlight.size > 0) return;
      for (const [name, compact] of [['queues', () => queues.compact()] as const, ...started.map((ext) => [ext.name, () => ext.compact?.()] as const)]) {
        try {
          const done = compact();
          if (done !== undefined) logger.debug({ store: name, ...(done as object) }, 'storage compacted');
        } catch (err) {
          logger.warn({ err, store: name }, 'storage compaction failed; the next quiet moment tries again');
        }
      }
    }, UPKEEP_INTERVAL_MS);
    upkeep.unref();

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        logger.info('host stopping');
        shutdown.abort();
        server.stopAccepting();
        for (const ext of started) await ext.stop();
        const abandoned = await inFlight.drain(settings.LEDGERFLOW_SHUTDOWN_TIMEOUT_MS);
        if (abandoned > 0) logger.warn({ inFlight: abandoned }, 'shutdown timeout: abandoning invocations still running');
        try {
          await app.hooks.run('appTerminate', app.hooks.context({}, {}));
        } catch (err) {
          logger.error({ err }, 'appTerminate hook failed');
        }
        await close();
        logger.info('host stopped');
      })();
      return stopping;
    };

    logger.info({ url: baseUrl, functions: runnable.map((f) => f.name), dataDir }, 'host started');
    return { url: baseUrl, port: address.port, appDir, dataDir, context, stop };
  } catch (err) {
    shutdown.abort();
    server.stopAccepting();
    for (const ext of started) await Promise.resolve(ext.stop()).catch(() => undefined);
    await close();
    throw err;
  }
}
