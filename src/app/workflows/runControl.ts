import type { DurableClient, DurableOrchestrationStatus, OrchestrationRuntimeStatus } from 'durable-functions';

/**
 * What the workflow API needs from the durable backend, narrowed from the SDK's
 * DurableClient so the service can be tested with a fake and never sees the wire.
 */
export interface RunRecord {
  instanceId: string;
  name: string;
  /** The durable runtime status: Pending, Running, Completed, Failed, Terminated, ... */
  runtimeStatus: string;
  createdAt: string;
  updatedAt: string;
  /** Present when the backend was asked for it (single-instance reads). */
  input: unknown;
  customStatus: unknown;
}

export interface RunControl {
  start(orchestrator: string, instanceId: string, input: unknown): Promise<void>;
  /** undefined when there is no such instance. */
  get(instanceId: string): Promise<RunRecord | undefined>;
  list(runtimeStatus?: string[]): Promise<RunRecord[]>;
  raise(instanceId: string, eventName: string, data: unknown): Promise<void>;
  /** Deletes the instance's state and history; 0 when there was none. */
  purge(instanceId: string): Promise<number>;
}

const iso = (d: Date | string | undefined) => (d === undefined ? '' : new Date(d).toISOString());

function record(s: DurableOrchestrationStatus): RunRecord {
  return {
    instanceId: s.instanceId,
    name: s.name,
    runtimeStatus: String(s.runtimeStatus),
    createdAt: iso(s.createdTime),
    updatedAt: iso(s.lastUpdatedTime),
    input: s.input,
    customStatus: s.customStatus,
  };
}

/** `client` may be given as a function: the SDK's client half loads with the first
 * `df.getClient` (src/loading), and a caller that may never need it (deliverJobExits at
 * start, with no exit to deliver) then does not load it. */
export function durableRunControl(client: DurableClient | (() => DurableClient)): RunControl {
  const durable = typeof client === 'function' ? client : () => client;
  return {
    async start(orchestrator, instanceId, input) {
      await durable().startNew(orchestrator, { instanceId, input });
    },
    async get(instanceId) {
      try {
        return record(await durable().getStatus(instanceId, { showInput: true }));
      } catch (err) {
        // The SDK reports an unknown instance only as an error naming the HTTP 404.
        if (err instanceof Error && /HTTP 404/.test(err.message)) return undefined;
        throw err;
      }
    },
    async list(runtimeStatus) {
      const filter = runtimeStatus === undefined ? {} : { runtimeStatus: runtimeStatus as OrchestrationRuntimeStatus[] };
      return (await durable().getStatusBy(filter)).map(record);
    },
    async raise(instanceId, eventName, data) {
      await durable().raiseEvent(instanceId, eventName, data);
    },
    async purge(instanceId) {
      return (await durable().purgeInstanceHistory(instanceId)).instancesDeleted;
    },
  };
}
