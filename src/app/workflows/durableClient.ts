import * as df from 'durable-functions';
import type { DurableClient } from 'durable-functions';

/** What `df.getClient` reads of an invocation context. */
export type ClientContext = Parameters<typeof df.getClient>[0];

/** A host hands every invocation the same connection info until it restarts (a new rpc
 * secret); a few entries cover the hosts one process runs (tests start several). */
const MAX_CLIENTS = 8;
/** Newest last: the connection info (a copy, with WEBSITE_HOSTNAME, which getClient reads)
 * and the client built from it. */
const clients: { hostname: string | undefined; data: unknown; client: DurableClient }[] = [];

/**
 * The invocation's durable client, as `df.getClient(context)` builds it, shared by the
 * invocations that were given the same connection info. Building one costs the host more
 * than the operation it is used for (an axios instance, eleven URLs validated and parsed:
 * ~0.3 ms of CPU per HTTP start); the SDK's client keeps no state between calls beyond
 * what it builds from the connection info, so the same info gives an equivalent client.
 * The info is compared field by field (JSON text per call cost ~1% of a host's CPU in
 * chain rounds).
 */
export function durableClientOf(context: ClientContext): DurableClient {
  const binding = context.options.extraInputs.find((input) => input.type === 'durableClient' || input.type === 'orchestrationClient');
  // No binding: the SDK's own error.
  if (binding === undefined) return df.getClient(context);
  // getClient rewrites the URLs' origin when WEBSITE_HOSTNAME is unset or 0.0.0.0.
  const hostname = process.env['WEBSITE_HOSTNAME'];
  const data: unknown = context.extraInputs.get(binding);
  const known = clients.find((c) => c.hostname === hostname && sameJson(c.data, data));
  if (known !== undefined) return known.client;
  const client = df.getClient(context);
  if (clients.length >= MAX_CLIENTS) clients.shift();
  // A copy: the caller may change the object it was given.
  clients.push({ hostname, data: data === undefined ? undefined : (JSON.parse(JSON.stringify(data)) as unknown), client });
  return client;
}

/** Whether two JSON values are equal (object keys in any order). */
function sameJson(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null || Array.isArray(a) !== Array.isArray(b)) return false;
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && sameJson((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}
