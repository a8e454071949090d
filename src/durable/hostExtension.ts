import { join } from 'node:path';
import { z } from 'zod';
import { metadataString, type HostContext, type HostExtension, type RegisteredFunction, type RpcTypedData } from '../host/extension';
import { tagActions } from './actions';
import { clientConfig, WEBHOOK_PATH } from './clientConfig';
import { DurableEngine } from './engine';
import { createHttpApi } from './httpApi';
import { installInProcessClient } from './inProcessClient';
import type { FunctionPort } from './ports';
import { DurableStore } from './store';
import { loadOrCreateSystemKey, newSecret } from './systemKey';
import { releaseEpisode } from './triggerInput';
import { PARSED_ONCE } from '../core/once';

/**
 * The durable engine as an extension of the embedded Functions host: it claims the
 * `orchestrationTrigger`, `activityTrigger` and `entityTrigger` functions the app
 * registered through `df.app.*`, runs them with `ctx.invoke` (the SDK's own handlers do
 * the replay), gives functions with a `durableClient` input the binding data the SDK's
 * DurableClient expects, and serves the management API under
 * `/runtime/webhooks/durabletask`. Its store lives in `<data dir>/durable/durable.db`, the
 * API's system key in `<data dir>/durable/system.key`.
 */
const durableTaskSchema = z
  .object({
    hubName: z.string().min(1).default('ledgerflow'),
    maxConcurrentActivityFunctions: z.coerce.number().int().positive().default(10),
    maxConcurrentOrchestratorFunctions: z.coerce.number().int().positive().default(64),
  })
  .loose();

/** The value of a function's return binding, as the programming model produced it. */
function typedValue(data: RpcTypedData | null | undefined): unknown {
  if (data === null || data === undefined) return undefined;
  if (typeof data.json === 'string') return JSON.parse(data.json) as unknown;
  if (typeof data.string === 'string') return data.string;
  if (typeof data.int === 'number') return data.int;
  if (typeof data.double === 'number') return data.double;
  if (data.bytes) return Buffer.from(data.bytes).toString('base64');
  return undefined;
}

/** The same value as JSON text; a `json` value is the programming model's JSON.stringify
 * already, so it is not parsed and serialised again. */
function typedJson(data: RpcTypedData | null | undefined): string {
  return typeof data?.json === 'string' ? data.json : (JSON.stringify(typedValue(data)) ?? 'null');
}

export function durableExtension(): HostExtension {
  let engine: DurableEngine | undefined;
  let store: DurableStore | undefined;
  let binding: RpcTypedData | undefined;
  let installClient: (() => () => void) | undefined;
  let uninstallClient: (() => void) | undefined;

  return {
    name: 'durable',
    triggerTypes: ['orchestrationTrigger', 'activityTrigger', 'entityTrigger'],
    inputBindingTypes: ['durableClient', 'orchestrationClient'],

    async start(ctx: HostContext, functions: readonly RegisteredFunction[]) {
      const config = durableTaskSchema.parse(ctx.hostJson.extensions?.['durableTask'] ?? {}, PARSED_ONCE);
      const byType = (type: string) =>
        new Map(functions.filter((fn) => fn.trigger.type.toLowerCase() === type.toLowerCase()).map((fn) => [fn.name.toLowerCase(), fn]));
      const orchestrators = byType('orchestrationTrigger');
      const activities = byType('activityTrigger');
      const entities = byType('entityTrigger');
      const find = (map: Map<string, RegisteredFunction>, kind: string, name: string): RegisteredFunction => {
        const fn = map.get(name.toLowerCase());
        if (fn === undefined) throw new Error(`no ${kind} function named '${name}' is registered`);
        return fn;
      };
      const port: FunctionPort = {
        hasOrchestrator: (name) => orchestrators.has(name.toLowerCase()),
        async runOrchestrator(name, triggerJson) {
          const result = await ctx.invoke(find(orchestrators, 'orchestrator', name), {
            trigger: { json: triggerJson },
            inspectResult: tagActions,
            release: releaseEpisode,
          });
          return typedValue(result.returnValue);
        },
        async runActivity(name, inputJson, instanceId) {
          const result = await ctx.invoke(find(activities, 'activity', name), {
            trigger: { json: inputJson },
            triggerMetadata: { instanceId: metadataString(instanceId) },
          });
          return typedJson(result.returnValue);
        },
        hasEntity: (name) => entities.has(name.toLowerCase()),
        async runEntity(name, triggerJson) {
          const result = await ctx.invoke(find(entities, 'entity', name), { trigger: { json: triggerJson } });
          return typedValue(result.returnValue);
        },
      };
      store = new DurableStore(join(ctx.dataDir, 'durable', 'durable.db'));
      engine = new DurableEngine({
        store,
        functions: port,
        maxConcurrentActivities: config.maxConcurrentActivityFunctions,
        maxConcurrentOrchestrations: config.maxConcurrentOrchestratorFunctions,
        logger: ctx.logger.child({ component: 'durable' }),
      });
      // A new rpc secret at every start: only this process's own clients know it.
      const secrets = { systemKey: loadOrCreateSystemKey(ctx.dataDir), rpcSecret: newSecret() };
      const client = clientConfig(ctx.baseUrl, config.hubName, secrets);
      binding = { json: JSON.stringify(client) };
      const api = createHttpApi({ engine, taskHub: config.hubName, origin: ctx.baseUrl, secrets });
      ctx.mountHttp(WEBHOOK_PATH, (req, res) => api.serve(req, res));
      // The app's DurableClient calls below rpcBaseUrl are answered in process (same handler),
      // installed with the first client binding: the SDK's client half, and its axios, load
      // on the first `df.getClient` (src/loading), after the host has started.
      installClient = () => installInProcessClient({ rpcBaseUrl: client.rpcBaseUrl, dispatch: api.dispatch, shutdownSignal: ctx.shutdownSignal });
      // Not through ctx.track: the engine's loop lives as long as the host, not one request;
      // its episodes and activities are host invocations, tracked as such.
      engine.start();
    },

    resolveInput() {
      if (binding === undefined || installClient === undefined) throw new Error('the durable extension has not started');
      uninstallClient ??= installClient();
      return binding;
    },

    async stop() {
      await engine?.stop();
    },

    compact() {
      return store?.compact();
    },

    close() {
      uninstallClient?.();
      // A client binding resolved after this would install an answer no one removes.
      installClient = undefined;
      engine?.close();
      store?.close();
    },
  };
}
