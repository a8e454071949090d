import * as df from 'durable-functions';
import type { DurableClient } from 'durable-functions';

/** What `df.getClient` reads of an invocation context. */
export type ClientContext = Parameters<typeof df.getClient>[0];

/** A host hands every invocation the same connection info until it restarts (a new rpc
 * secret); a few entries cover the hosts one process runs (tests start several). */
const MAX_CLIENTS = 8;
const clients = new Map<string, DurableClient>();

/**
 * The invocation's durable client, as `df.getClient(context)` builds it, shared by the
 * invocations that were given the same connection info. Building one costs the host more
 * than the operation it is used for (an axios instance, eleven URLs validated and parsed:
 * ~0.3 ms of CPU per HTTP start); the SDK's client keeps no state between calls beyond
 * what it builds from the connection info, so the same info gives an equivalent client.
 */
export function durableClientOf(context: ClientContext): DurableClient {
  const binding = context.options.extraInputs.find((input) => input.type === 'durableClient' || input.type === 'orchestrationClient');
  // No binding: the SDK's own error.
  if (binding === undefined) return df.getClient(context);
  // getClient rewrites the URLs' origin when WEBSITE_HOSTNAME is unset or 0.0.0.0.
  const key = `${process.env['WEBSITE_HOSTNAME'] ?? ''}\n${JSON.stringify(context.extraInputs.get(binding)) ?? ''}`;
  let client = clients.get(key);
  if (client === undefined) {
    client = df.getClient(context);
    if (clients.size >= MAX_CLIENTS) clients.delete(clients.keys().next().value as string);
    clients.set(key, client);
  }
  return client;
}
