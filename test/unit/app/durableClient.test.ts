import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvocationContext } from '@azure/functions';
import * as df from 'durable-functions';
import { durableClientOf } from '../../../src/app/workflows/durableClient';
import { clientConfig } from '../../../src/durable/clientConfig';

const binding = df.input.durableClient();

/** An invocation context as the programming model builds it: the binding's data parsed anew. */
function contextWith(data: unknown): InvocationContext {
  const context = new InvocationContext({ options: { extraInputs: [binding] } });
  context.extraInputs.set(binding, JSON.parse(JSON.stringify(data)) as unknown);
  return context;
}

const hostA = clientConfig('http://127.0.0.1:7071', 'ledgerflow', { systemKey: 'key-a', rpcSecret: 'secret-a' });
const hostB = clientConfig('http://127.0.0.1:7072', 'ledgerflow', { systemKey: 'key-b', rpcSecret: 'secret-b' });

test('invocations given the same connection info share one client, built as df.getClient builds it', () => {
  const first = durableClientOf(contextWith(hostA));
  assert.equal(durableClientOf(contextWith(hostA)), first);
  assert.deepEqual(first.createHttpManagementPayload('abc'), df.getClient(contextWith(hostA)).createHttpManagementPayload('abc'));
});

test('different connection info (another host, another key, another hub) gets its own client', () => {
  const a = durableClientOf(contextWith(hostA));
  const b = durableClientOf(contextWith(hostB));
  assert.notEqual(a, b);
  assert.match(b.createHttpManagementPayload('abc').statusQueryGetUri, /code=key-b/);
  const otherKey = durableClientOf(contextWith({ ...hostA, requiredQueryStringParameters: 'code=other' }));
  assert.notEqual(otherKey, a);
  const otherHub = durableClientOf(contextWith({ ...hostA, taskHubName: 'other' }));
  assert.equal(otherHub.taskHubName, 'other');
});

test('without a durable client binding it fails as df.getClient does', () => {
  const context = new InvocationContext({ options: { extraInputs: [] } });
  assert.throws(() => durableClientOf(context), /Could not find a registered durable client input binding/);
});

test('the cache stays bounded however many hosts a process sees', () => {
  const clients = Array.from({ length: 20 }, (_, i) =>
    durableClientOf(contextWith(clientConfig(`http://127.0.0.1:${8000 + i}`, 'ledgerflow', { systemKey: `k${i}`, rpcSecret: `s${i}` }))),
  );
  // The most recent ones are still shared; the oldest were dropped (and are rebuilt on demand).
  const last = clientConfig('http://127.0.0.1:8019', 'ledgerflow', { systemKey: 'k19', rpcSecret: 's19' });
  assert.equal(durableClientOf(contextWith(last)), clients[19]);
  const oldest = clientConfig('http://127.0.0.1:8000', 'ledgerflow', { systemKey: 'k0', rpcSecret: 's0' });
  assert.notEqual(durableClientOf(contextWith(oldest)), clients[0]);
});

test('connection info changed after its client was built is other connection info', () => {
  const context = contextWith(hostA);
  const a = durableClientOf(context);
  (context.extraInputs.get(binding) as { taskHubName: string }).taskHubName = 'changed';
  const changed = durableClientOf(context);
  assert.notEqual(changed, a);
  assert.equal(changed.taskHubName, 'changed');
  assert.equal(durableClientOf(contextWith(hostA)), a);
});
