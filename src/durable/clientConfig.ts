/**
 * The Durable HTTP management API's addresses, as the Durable extension hands them to a
 * `durableClient` input binding (the SDK's `OrchestrationClientInputData`) and puts in
 * check-status responses (`HttpManagementPayload`). With `rpcBaseUrl` set, the SDK's
 * DurableClient sends every operation there; the public URLs are what it gives callers.
 */
export const WEBHOOK_PATH = '/runtime/webhooks/durabletask';
/** Below WEBHOOK_PATH: `rpc/<rpc secret>/` is the in-process client's base. */
export const RPC_SEGMENT = 'rpc';
const ID = 'INSTANCEID';

/** What the management API requires: the system key on webhook URLs, the per-process
 * secret path segment under `rpc/` (see systemKey.ts). */
export interface ApiSecrets {
  readonly systemKey: string;
  readonly rpcSecret: string;
}

export interface ClientConfig {
  taskHubName: string;
  creationUrls: { createNewInstancePostUri: string; createAndWaitOnNewInstancePostUri: string };
  managementUrls: ManagementUrls;
  baseUrl: string;
  requiredQueryStringParameters: string;
  rpcBaseUrl: string;
}

export interface ManagementUrls {
  id: string;
  statusQueryGetUri: string;
  sendEventPostUri: string;
  terminatePostUri: string;
  rewindPostUri: string;
  purgeHistoryDeleteUri: string;
  restartPostUri: string;
  suspendPostUri: string;
  resumePostUri: string;
}

/** The query every webhook URL carries; with the system key in it, a URL is a capability
 * (as on Azure). */
function requiredQuery(taskHub: string, systemKey: string): string {
  return `taskHub=${encodeURIComponent(taskHub)}&connection=Storage&code=${encodeURIComponent(systemKey)}`;
}

/** `origin` is where the host listens, e.g. `http://127.0.0.1:7071`. */
export function managementUrls(origin: string, taskHub: string, instanceId: string, systemKey: string): ManagementUrls {
  const base = `${origin}${WEBHOOK_PATH}`;
  const q = requiredQuery(taskHub, systemKey);
  const instance = `${base}/instances/${encodeURIComponent(instanceId)}`;
  return {
    id: instanceId,
    statusQueryGetUri: `${instance}?${q}`,
    sendEventPostUri: `${instance}/raiseEvent/{eventName}?${q}`,
    terminatePostUri: `${instance}/terminate?reason={text}&${q}`,
    rewindPostUri: `${instance}/rewind?reason={text}&${q}`,
    purgeHistoryDeleteUri: `${instance}?${q}`,
    restartPostUri: `${instance}/restart?${q}`,
    suspendPostUri: `${instance}/suspend?reason={text}&${q}`,
    resumePostUri: `${instance}/resume?reason={text}&${q}`,
  };
}

export function clientConfig(origin: string, taskHub: string, secrets: ApiSecrets): ClientConfig {
  const base = `${origin}${WEBHOOK_PATH}`;
  const q = requiredQuery(taskHub, secrets.systemKey);
  const urls = managementUrls(origin, taskHub, ID, secrets.systemKey);
  return {
    taskHubName: taskHub,
    creationUrls: {
      createNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?${q}`,
      createAndWaitOnNewInstancePostUri: `${base}/orchestrators/{functionName}[/{instanceId}]?timeout={timeoutInSeconds}&pollingInterval={intervalInSeconds}&${q}`,
    },
    // The id placeholder is replaced verbatim by the SDK, so it must not be URL-encoded.
    managementUrls: { ...urls, id: ID },
    baseUrl: base,
    requiredQueryStringParameters: q,
    // The SDK resolves relative paths (`instances/<id>`, `orchestrators/<name>`) against it.
    rpcBaseUrl: `${base}/${RPC_SEGMENT}/${secrets.rpcSecret}/`,
  };
}
