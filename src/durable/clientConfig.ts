/**
 * The Durable HTTP management API's addresses, as the Durable extension hands them to a
 * `durableClient` input binding (the SDK's `OrchestrationClientInputData`) and puts in
 * check-status responses (`HttpManagementPayload`). With `rpcBaseUrl` set, the SDK's
 * DurableClient sends every operation there; the public URLs are what it gives callers.
 */
export const WEBHOOK_PATH = '/runtime/webhooks/durabletask';
const ID = 'INSTANCEID';

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

/** `origin` is where the host listens, e.g. `http://127.0.0.1:7071`. */
export function managementUrls(origin: string, taskHub: string, instanceId: string): ManagementUrls {
  const base = `${origin}${WEBHOOK_PATH}`;
  const q = `taskHub=${encodeURIComponent(taskHub)}&connection=Storage`;
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

export function clientConfig(origin: string, taskHub: string): ClientConfig {
  const base = `${origin}${WEBHOOK_PATH}`;
  const q = `taskHub=${encodeURIComponent(taskHub)}&connection=Storage`;
  const urls = managementUrls(origin, taskHub, ID);
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
    rpcBaseUrl: `${base}/`,
  };
}
