import { resolve } from 'node:path';
import { parseSettings, type Settings } from '../config/settings';
import { LedgerflowError } from '../core/errors';
import { createLogger, type Logger } from '../observability/logger';
import { invokeFunction, type InvocationInput, type InvocationResult } from './app/invoke';
import { loadApp, type LoadedApp } from './app/loadApp';
import { RETURN_BINDING, type BindingSpec, type RegisteredFunction } from './app/registry';
import { HostConfigError } from './config/hostConfigError';
import { readHostJson } from './config/hostJson';
import { applyLocalSettings } from './config/localSettings';
import { lockDataDir } from './dataDirLock';
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

const lower = (types: readonly string[] | undefined) => new Set((types ?? []).map((t) => t.toLowerCase()));

function claimant(extensions: readonly HostExtension[], pick: (e: HostExtension) => readonly string[] | undefined, type: string) {
  return extensions.find((e) => lower(pick(e)).has(type.toLowerCase()));
}

/** Why a function cannot run here, or undefined when every binding has an extension. */
function unsupportedBinding(fn: RegisteredFunction, extensions: readonly HostExtension[]): string | undefined {
  if (!claimant(extensions, (e) => e.triggerTypes, fn.trigger.type)) return `trigger type "${fn.trigger.type}"`;
  const input = fn.inputs.find((b) => !claimant(extensions, (e) => e.inputBindingTypes, b.type));
  if (input) return `input binding type "${input.type}"`;
  const output = fn.outputs.find((b) => !claimant(extensions, (e) => e.outputBindingTypes, b.type));
  if (output) return `output binding type "${output.type}"`;
  return undefined;
}

function parseSettingsOrExplain(env: NodeJS.ProcessEnv): Settings {
  try {
    return parseSettings(env);
  } catch (err) {
    if (err instanceof LedgerflowError) throw new HostConfigError(err.message);
    throw err;
  }
}

/** Starts the embedded Functions host: settings, app, HTTP, then the extensions. */
export async function startHost(options: HostOptions = {}): Promise<RunningHost> {
  const env = options.env ?? process.env;
  const appDir = resolve(options.appDir ?? env['LEDGERFLOW_APP_DIR'] ?? process.cwd());
  applyLocalSettings(appDir, env);
  env['LEDGERFLOW_HOST'] = 'embedded';
  const settings = parseSettingsOrExplain(env);
  // Binding expressions (`%LEASE_EXPIRY_SCHEDULE%`) see every plain setting, defaults included.
  for (const [name, value] of Object.entries(settings)) {
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') env[name] ??= String(value);
  }
  const logger = options.logger ?? createLogger({ level: settings.LOG_LEVEL, name: 'ledgerflow-host' });
  const hostJson = readHostJson(appDir);
  const dataDir = resolve(settings.LEDGERFLOW_DATA_DIR);
  const unlock = lockDataDir(dataDir);

  const inFlight = new Set<Promise<unknown>>();
  const track = <T>(work: Promise<T>): Promise<T> => {
    inFlight.add(work);
    const forget = () => inFlight.delete(work);
    work.then(forget, forget);
    return work;
  };
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
  let app: LoadedApp | undefined;

  async function close(): Promise<void> {
    server.closeAllConnections();
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
    app = await loadApp(appDir, env, logger);
    const loaded = app;
    const runnable = loaded.registry.all().filter((fn) => {
      const reason = unsupportedBinding(fn, extensions);
      if (reason) logger.error({ functionName: fn.name }, `function "${fn.name}" is disabled: no extension handles its ${reason}`);
      return reason === undefined;
    });
    await loaded.hooks.run('appStart', loaded.hooks.context({}, { functionAppDirectory: appDir }));

    const address = await server.listen(settings.PORT, settings.LEDGERFLOW_BIND_ADDRESS);
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
    const baseUrl = `http://${host}:${address.port}`;

    const invokeDeps = { programmingModel: loaded.programmingModel, hooks: loaded.hooks, logger };
    const resolveInputs = async (fn: RegisteredFunction, input: InvocationInput, invocationId: string) => {
      const inputs = { ...(input.inputs ?? {}) };
      for (const binding of fn.inputs) {
        if (binding.name in inputs) continue;
        const ext = claimant(extensions, (e) => e.inputBindingTypes, binding.type);
        if (ext?.resolveInput) inputs[binding.name] = await ext.resolveInput(binding, fn, { invocationId });
      }
      return inputs;
    };
    const writeOutputs = async (fn: RegisteredFunction, result: InvocationResult) => {
      for (const binding of fn.outputs) {
        const ext = claimant(extensions, (e) => e.outputBindingTypes, binding.type);
        const value = outputValue(binding, result);
        if (ext?.writeOutput && value) await ext.writeOutput(binding, value, fn, { invocationId: result.invocationId });
      }
    };

    const context: HostContext = {
      settings,
      appDir,
      dataDir,
      hostJson,
      logger,
      baseUrl,
      shutdownSignal: shutdown.signal,
      queues,
      functions: () => runnable,
      getFunction: (name) => runnable.find((fn) => fn.name.toLowerCase() === name.toLowerCase()),
      invoke: (fn, input) =>
        track(
          (async () => {
            const invocationId = input.invocationId ?? crypto.randomUUID();
            const inputs = await resolveInputs(fn, input, invocationId);
            const result = await invokeFunction(invokeDeps, fn, { ...input, invocationId, inputs });
            await writeOutputs(fn, result);
            return result;
          })(),
        ),
      mountHttp: (prefix, handler) => server.mount(prefix, handler),
      track,
    };

    for (const ext of extensions) {
      const claimed = lower(ext.triggerTypes);
      started.push(ext);
      try {
        await ext.start(context, runnable.filter((fn) => claimed.has(fn.trigger.type.toLowerCase())));
      } catch (err) {
        throw new HostConfigError(`the ${ext.name} extension failed to start: ${(err as Error).message}`, { cause: err });
      }
    }

    let stopping: Promise<void> | undefined;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        logger.info('host stopping');
        shutdown.abort();
        server.stopAccepting();
        for (const ext of started) await ext.stop();
        const deadline = Date.now() + settings.LEDGERFLOW_SHUTDOWN_TIMEOUT_MS;
        while (inFlight.size > 0 && Date.now() < deadline) {
          let timer: NodeJS.Timeout | undefined;
          await Promise.race([
            Promise.allSettled([...inFlight]),
            new Promise((r) => (timer = setTimeout(r, deadline - Date.now()))),
          ]);
          clearTimeout(timer);
        }
        if (inFlight.size > 0) logger.warn({ inFlight: inFlight.size }, 'shutdown timeout: abandoning invocations still running');
        try {
          await loaded.hooks.run('appTerminate', loaded.hooks.context({}, {}));
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

function outputValue(binding: BindingSpec, result: InvocationResult) {
  return binding.name === RETURN_BINDING ? result.returnValue : result.outputs.get(binding.name);
}
