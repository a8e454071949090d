import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createIdentity, createPlatformIdentity, type TestIdentity } from '../../helpers/identities';
import { LedgerHarness, newDataset, type Outcome } from '../../helpers/ledgerHarness';

let alice: TestIdentity;
let bob: TestIdentity;
let platform: TestIdentity;

before(async () => {
  [alice, bob, platform] = await Promise.all([createIdentity('alice', 'uis'), createIdentity('bob', 'ntnu'), createPlatformIdentity()]);
});

const SPEC = 'b'.repeat(64);

/** Every state-changing transaction, in an order that succeeds; with the event each must emit. */
async function script(h: LedgerHarness): Promise<[Outcome, string][]> {
  const steps: [TestIdentity, string, string[], string][] = [
    // Consent is covered by approvals.test.ts; this dataset opts out so the launch needs none.
    [alice, 'RegisterDataset', [newDataset('dataset-01', { policy: { leaseTtlSeconds: 60, maxLeaseTtlSeconds: 600, approval: 'none' } })], 'DatasetRegistered'],
    [alice, 'RegisterDataset', [newDataset('dataset-02', { policy: { maxLeaseTtlSeconds: 90, leaseTtlSeconds: 5 } })], 'DatasetRegistered'],
    [alice, 'UpdateDataset', ['dataset-01', JSON.stringify({ description: 'second', name: 'renamed' })], 'DatasetUpdated'],
    [bob, 'TakeLease', ['dataset-01', '0'], 'LeaseTaken'],
    [bob, 'TakeLease', ['dataset-02', '0'], 'LeaseTaken'],
    [bob, 'RecordWorkflowLaunched', [JSON.stringify({ specHash: SPEC, datasetIds: ['dataset-01'], workflowId: 'wf-1' })], 'WorkflowLaunched'],
    [
      bob,
      'RecordWorkflowFinished',
      [JSON.stringify({ workflowId: 'wf-1', status: 'Failed', jobs: [{ exitCode: 3, status: 'Failed', name: 'a' }] })],
      'WorkflowFinished',
    ],
    [bob, 'RecordWorkflowCleanedUp', ['wf-1'], 'WorkflowCleanedUp'],
    [bob, 'ReleaseLease', ['dataset-01'], 'LeaseReleased'],
    [alice, 'RegisterDataset', [newDataset('dataset-03')], 'DatasetRegistered'],
    [bob, 'TakeLease', ['dataset-03', '0'], 'LeaseTaken'],
    [bob, 'RequestApprovals', [JSON.stringify({ workflowId: 'wf-2', filesHash: SPEC, specHash: SPEC, datasetIds: ['dataset-03'] })], 'ApprovalsRequested'],
    [alice, 'DecideApprovals', ['wf-2', JSON.stringify({ reuse: true, decision: 'approve', comment: 'ok' })], 'ApprovalsDecided'],
    [platform, 'ExpireLeases', [], 'LeasesExpired'],
    [alice, 'DeleteDataset', ['dataset-01'], 'DatasetDeleted'],
  ];
  const out: [Outcome, string][] = [];
  for (const [who, fn, args, event] of steps) {
    h.advance(7);
    const o = await h.submit(who, fn, ...args);
    assert.equal(o.validation, 'VALID', `${fn}: ${o.message}`);
    out.push([o, event]);
  }
  return out;
}

const bytes = (o: Outcome) =>
  JSON.stringify({
    payload: o.payload.toString('base64'),
    reads: o.rwset.reads,
    rangeReads: o.rwset.rangeReads,
    writes: o.rwset.writes.map((w) => [w.key, w.value?.toString('base64') ?? null]),
    event: o.event && [o.event.name, o.event.payload.toString('base64')],
  });

test('the same transactions on the same state produce the same bytes (what endorsers must agree on)', async () => {
  const [first, second] = [await script(new LedgerHarness()), await script(new LedgerHarness())];
  assert.deepEqual(
    first.map(([o]) => bytes(o)),
    second.map(([o]) => bytes(o)),
  );
});

test('state, results and event payloads are canonical JSON: sorted keys at every depth', async () => {
  const sortedDeep = (v: unknown): unknown =>
    Array.isArray(v)
      ? v.map(sortedDeep)
      : v !== null && typeof v === 'object'
        ? Object.fromEntries(
            Object.keys(v)
              .sort()
              .map((k) => [k, sortedDeep((v as Record<string, unknown>)[k])]),
          )
        : v;
  const canonical = (b: Buffer) => JSON.stringify(sortedDeep(JSON.parse(b.toString('utf8')))) === b.toString('utf8');
  for (const [o] of await script(new LedgerHarness())) {
    if (o.payload.length > 0) assert.ok(canonical(o.payload), o.payload.toString());
    if (o.event) assert.ok(canonical(o.event.payload), o.event.payload.toString());
    for (const w of o.rwset.writes) if (w.value !== null) assert.ok(canonical(w.value), w.value.toString());
  }
});

test('every state change emits one event named after the action', async () => {
  for (const [o, name] of await script(new LedgerHarness())) assert.equal(o.event?.name, name);
});

test('queries write nothing and emit nothing', async () => {
  const h = new LedgerHarness();
  await script(h);
  for (const [fn, args] of [
    ['ReadDataset', ['dataset-02']],
    ['ReadLease', ['dataset-02']],
    ['ListDatasets', [JSON.stringify({ pageSize: 10, includeDeleted: true })]],
    ['DatasetHistory', ['dataset-01']],
    ['ReadApprovals', ['wf-2']],
    ['ListApprovals', ['{}']],
  ] as const) {
    const o = await h.evaluate(bob, fn, ...args);
    assert.equal(o.status, 200, `${fn}: ${o.message}`);
    assert.equal(o.rwset.writes.length, 0, fn);
    assert.equal(o.event, undefined, fn);
  }
});
