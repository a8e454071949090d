import { InvocationContext } from '@azure/functions';
import type { EntityHandler, OrchestrationHandler } from 'durable-functions';
import { tagActions } from '../../src/durable/actions';
import type { FunctionPort } from '../../src/durable/ports';
import { releaseEpisode } from '../../src/durable/triggerInput';

// The SDK's own wrapper for orchestrator handlers (what df.app.orchestration registers).
const { createOrchestrator, createEntityFunction } = require('durable-functions/lib/src/util/testingUtils') as {
  createOrchestrator: (fn: OrchestrationHandler) => (trigger: unknown, ctx: InvocationContext) => Promise<unknown>;
  createEntityFunction: (fn: EntityHandler<unknown>) => (trigger: unknown, ctx: InvocationContext) => Promise<unknown>;
};

export type ActivityFn = (input: unknown) => unknown;

/**
 * A FunctionPort that runs orchestrators and activities in-process through the SDK's
 * handlers, without a Functions host: for engine-level tests. Trigger input and result
 * cross a JSON boundary, as they do through the host.
 */
export function directPort(
  orchestrators: Record<string, OrchestrationHandler>,
  activities: Record<string, ActivityFn>,
  entities: Record<string, EntityHandler<unknown>> = {},
): FunctionPort {
  const handlers = new Map(Object.entries(orchestrators).map(([name, fn]) => [name, createOrchestrator(fn)]));
  const entityHandlers = new Map(Object.entries(entities).map(([name, fn]) => [name.toLowerCase(), createEntityFunction(fn)]));
  return {
    hasOrchestrator: (name) => handlers.has(name),
    async runOrchestrator(name: string, triggerJson: string) {
      const handler = handlers.get(name);
      if (!handler) throw new Error(`no orchestrator ${name}`);
      const ctx = new InvocationContext({ functionName: name, invocationId: 'test', logHandler: () => undefined });
      const trigger: unknown = JSON.parse(triggerJson);
      try {
        return JSON.parse(JSON.stringify(tagActions(await handler(trigger, ctx))));
      } finally {
        releaseEpisode(trigger, ctx);
      }
    },
    async runActivity(name: string, inputJson: string) {
      const fn = activities[name];
      if (!fn) throw new Error(`no activity ${name}`);
      return JSON.stringify((await fn(JSON.parse(inputJson))) ?? null);
    },
    hasEntity: (name) => entityHandlers.has(name.toLowerCase()),
    async runEntity(name: string, triggerJson: string) {
      const handler = entityHandlers.get(name.toLowerCase());
      if (!handler) throw new Error(`no entity ${name}`);
      const ctx = new InvocationContext({ functionName: name, invocationId: 'test', logHandler: () => undefined });
      return JSON.parse(JSON.stringify(await handler(JSON.parse(triggerJson), ctx)));
    },
  };
}
