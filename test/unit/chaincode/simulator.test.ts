import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { loadChaincode, compareKeys, type Chaincode, type ReadWriteSet, type SimulationInput } from '../../../src/ledger-peer/simulator';
import { Context, Contract } from 'fabric-contract-api';
import { createIdentity, type TestIdentity } from '../../helpers/identities';
import { MemoryLedger } from '../../helpers/memoryLedger';

/** Exercises the stub the way chaincode does; undecorated, so fabric-contract-api infers
 * its transactions (string arguments) as it does for plain JavaScript contracts. Results
 * are JSON text: fabric-contract-api's own object serialization calls class-transformer's
 * classToPlain, which the class-transformer 0.4.1 that `^0.4.0` resolves to no longer has. */
class ProbeContract extends Contract {
  constructor() {
    super('probe');
  }
  async put(ctx: Context, key: string, value: string) {
    await ctx.stub.putState(key, Buffer.from(value));
  }
  async putAndRead(ctx: Context, key: string, value: string) {
    await ctx.stub.putState(key, Buffer.from(value));
    return (await ctx.stub.getState(key)).toString();
  }
  async putEmpty(ctx: Context, key: string) {
    await ctx.stub.putState(key, Buffer.alloc(0));
  }
  async del(ctx: Context, key: string) {
    await ctx.stub.deleteState(key);
  }
  async putComposite(ctx: Context, type: string, attr: string, value: string) {
    await ctx.stub.putState(ctx.stub.createCompositeKey(type, [attr]), Buffer.from(value));
  }
  async range(ctx: Context, start: string, end: string) {
    const keys: string[] = [];
    for await (const kv of ctx.stub.getStateByRange(start, end)) keys.push(kv.key);
    return JSON.stringify(keys);
  }
  async rangeIterator(ctx: Context, start: string, end: string) {
    const iterator = await ctx.stub.getStateByRange(start, end);
    await iterator.close();
  }
  async rangeFirst(ctx: Context, start: string, end: string) {
    for await (const kv of ctx.stub.getStateByRange(start, end)) return JSON.stringify(kv.key);
    return '';
  }
  async partial(ctx: Context, type: string) {
    const found: { attributes: string[]; value: string }[] = [];
    for await (const kv of ctx.stub.getStateByPartialCompositeKey(type, [])) {
      found.push({ attributes: ctx.stub.splitCompositeKey(kv.key).attributes, value: Buffer.from(kv.value).toString() });
    }
    return JSON.stringify(found);
  }
  async page(ctx: Context, start: string, end: string, size: string, bookmark: string) {
    const { iterator, metadata } = await ctx.stub.getStateByRangeWithPagination(start, end, Number(size), bookmark);
    const keys: string[] = [];
    for (let r = await iterator.next(); !r.done; r = await iterator.next()) keys.push(r.value.key);
    await iterator.close();
    return JSON.stringify({ keys, bookmark: metadata.bookmark, fetched: metadata.fetchedRecordsCount });
  }
  async pageThenWrite(ctx: Context) {
    await ctx.stub.getStateByRangeWithPagination('', '', 10, '');
    await ctx.stub.putState('k', Buffer.from('v'));
  }
  async history(ctx: Context, key: string) {
    const mods: string[] = [];
    for await (const m of ctx.stub.getHistoryForKey(key)) mods.push(`${m.txId}:${m.isDelete ? 'delete' : Buffer.from(m.value).toString()}`);
    return JSON.stringify(mods);
  }
  async whoami(ctx: Context) {
    const ts = ctx.stub.getTxTimestamp();
    return JSON.stringify({
      mspId: ctx.clientIdentity.getMSPID(),
      id: ctx.clientIdentity.getID(),
      creatorMsp: ctx.stub.getCreator().mspid,
      txId: ctx.stub.getTxID(),
      channel: ctx.stub.getChannelID(),
      date: ctx.stub.getDateTimestamp().toISOString(),
      seconds: Number(ts.seconds),
      nanos: ts.nanos,
      fcn: ctx.stub.getFunctionAndParameters(),
      args: ctx.stub.getArgs(),
      transient: [...ctx.stub.getTransient()].map(([k, v]) => `${k}=${Buffer.from(v).toString()}`),
      binding: ctx.stub.getBinding().length,
    });
  }
  async emitTwice(ctx: Context) {
    ctx.stub.setEvent('first', Buffer.from('1'));
    ctx.stub.setEvent('second', Buffer.from('2'));
  }
  async failAfterWrite(ctx: Context) {
    await ctx.stub.putState('k', Buffer.from('v'));
    throw new Error('{"code":"conflict","message":"no"}');
  }
  async privateData(ctx: Context) {
    return (await ctx.stub.getPrivateData('collection', 'k')).toString();
  }
}

let alice: TestIdentity;
let probe: Chaincode;
let seq = 0;

before(async () => {
  alice = await createIdentity('alice', 'uis');
  probe = loadChaincode('probe', [ProbeContract]);
});

function input(fn: string, args: string[] = [], extra: Partial<SimulationInput> = {}): SimulationInput {
  return {
    channelId: 'mychannel',
    txId: `t${++seq}`,
    timestamp: new Date('2026-03-04T05:06:07.089Z'),
    creator: { mspId: alice.mspId, certPem: alice.certPem },
    fn,
    args,
    ...extra,
  };
}

/** Runs and commits; returns the parsed payload. */
async function run(ledger: MemoryLedger, fn: string, ...args: string[]): Promise<unknown> {
  const sim = input(fn, args);
  const r = await probe.simulate(sim, ledger);
  assert.equal(r.status, 200, r.message);
  assert.equal(ledger.commit({ txId: sim.txId, timestamp: sim.timestamp, rwset: r.rwset }), 'VALID');
  const text = r.payload.toString();
  return text === '' ? undefined : JSON.parse(text);
}

async function seeded(keys: string[]): Promise<MemoryLedger> {
  const ledger = new MemoryLedger();
  for (const k of keys) await run(ledger, 'put', k, `v:${k}`);
  return ledger;
}

describe('simulator: reads, writes and the read/write set', () => {
  test('reads see committed state, not the transaction own writes; reads carry versions', async () => {
    const ledger = await seeded(['a']);
    const r = await probe.simulate(input('putAndRead', ['a', 'new']), ledger);
    assert.equal(r.payload.toString(), 'v:a');
    assert.deepEqual(r.rwset.reads, [{ key: 'a', version: { blockNum: 1, txNum: 0 } }]);
    assert.deepEqual(r.rwset.writes, [{ key: 'a', value: Buffer.from('new') }]);
    const fresh = await probe.simulate(input('putAndRead', ['b', 'x']), ledger);
    assert.equal(fresh.payload.toString(), '', 'absent key reads as empty');
    assert.deepEqual(fresh.rwset.reads, [{ key: 'b', version: null }]);
  });

  test('an empty value is a delete, as in Fabric', async () => {
    const ledger = await seeded(['a']);
    const r = await probe.simulate(input('putEmpty', ['a']), ledger);
    assert.deepEqual(r.rwset.writes, [{ key: 'a', value: null }]);
    await run(ledger, 'del', 'a');
    assert.equal(ledger.get('a'), undefined);
  });

  test('the fabric namespace rules: keys may not start with U+0000', async () => {
    const ledger = new MemoryLedger();
    const r = await probe.simulate(input('rangeIterator', ['\u0000x', '']), ledger);
    assert.equal(r.status, 500);
    assert.match(r.message, /null character/);
  });

  test('a failed transaction returns 500 with the message and no read/write set or event', async () => {
    const r = await probe.simulate(input('failAfterWrite'), new MemoryLedger());
    assert.equal(r.status, 500);
    assert.deepEqual(JSON.parse(r.message), { code: 'conflict', message: 'no' });
    assert.deepEqual(r.rwset, { reads: [], rangeReads: [], writes: [] });
    assert.equal(r.event, undefined);
    assert.equal(r.payload.length, 0);
  });

  test('unsupported peer features fail clearly', async () => {
    const r = await probe.simulate(input('privateData'), new MemoryLedger());
    assert.equal(r.status, 500);
    assert.match(r.message, /not supported by the embedded peer/);
  });

  test('one event per transaction: the last one set', async () => {
    const r = await probe.simulate(input('emitTwice'), new MemoryLedger());
    assert.deepEqual(r.event, { name: 'second', payload: Buffer.from('2') });
  });

  test('the contract name may prefix the function; unknown functions fail', async () => {
    assert.equal((await probe.simulate(input('probe:put', ['k', 'v']), new MemoryLedger())).status, 200);
    assert.equal((await probe.simulate(input('nothing'), new MemoryLedger())).status, 500);
  });
});

describe('simulator: identity and proposal', () => {
  test('ClientIdentity, creator, timestamp, args and transient data come from the input', async () => {
    const r = await probe.simulate(input('whoami', [], { transient: new Map([['secret', Buffer.from('s3')]]) }), new MemoryLedger());
    const who = JSON.parse(r.payload.toString()) as Record<string, unknown>;
    assert.equal(who.mspId, 'UisMSP');
    assert.equal(who.creatorMsp, 'UisMSP');
    assert.match(String(who.id), /^x509::\/CN=alice\/O=uis::\/CN=ca\.uis\/O=uis$/);
    assert.equal(who.channel, 'mychannel');
    assert.equal(who.date, '2026-03-04T05:06:07.089Z');
    assert.equal(who.seconds, Date.parse('2026-03-04T05:06:07Z') / 1000);
    assert.equal(who.nanos, 89_000_000);
    assert.deepEqual(who.fcn, { fcn: 'whoami', params: [] });
    assert.deepEqual(who.args, ['whoami']);
    assert.deepEqual(who.transient, ['secret=s3']);
    assert.equal(who.binding, 64);
  });
});

describe('simulator: range queries', () => {
  test('plain ranges are [start, end) in byte order and never return composite keys', async () => {
    const ledger = await seeded(['b', 'a', 'c', 'd']);
    await run(ledger, 'putComposite', 'lease', 'x', '1');
    assert.deepEqual(await run(ledger, 'range', '', ''), ['a', 'b', 'c', 'd']);
    assert.deepEqual(await run(ledger, 'range', 'b', 'd'), ['b', 'c']);
    const r = await probe.simulate(input('range', ['b', 'd']), ledger);
    assert.deepEqual(r.rwset.rangeReads, [
      {
        startKey: 'b',
        endKey: 'd',
        keys: [
          { key: 'b', version: { blockNum: 1, txNum: 0 } },
          { key: 'c', version: { blockNum: 3, txNum: 0 } },
        ],
        exhausted: true,
      },
    ]);
  });

  test('partial composite key queries return only that type', async () => {
    const ledger = await seeded(['a']);
    await run(ledger, 'putComposite', 'lease', 'x', '1');
    await run(ledger, 'putComposite', 'lease', 'w', '2');
    await run(ledger, 'putComposite', 'other', 'y', '3');
    assert.deepEqual(await run(ledger, 'partial', 'lease'), [
      { attributes: ['w'], value: '2' },
      { attributes: ['x'], value: '1' },
    ]);
  });

  test('an iteration stopped early records only what it read, not exhausted', async () => {
    const ledger = await seeded(['a', 'b', 'c']);
    const r = await probe.simulate(input('rangeFirst', ['', '']), ledger);
    assert.equal(r.rwset.rangeReads[0].keys.length, 1);
    assert.equal(r.rwset.rangeReads[0].exhausted, false);
    await run(ledger, 'put', 'z', 'after the part read');
    assert.equal(ledger.commit({ txId: 'late', timestamp: new Date(), rwset: r.rwset }), 'VALID');
  });

  test('paginated queries return a bookmark to the next key; none after the last page', async () => {
    const ledger = await seeded(['a', 'b', 'c', 'd', 'e']);
    assert.deepEqual(await run(ledger, 'page', '', '', '2', ''), { keys: ['a', 'b'], bookmark: 'c', fetched: 2 });
    assert.deepEqual(await run(ledger, 'page', '', '', '2', 'c'), { keys: ['c', 'd'], bookmark: 'e', fetched: 2 });
    assert.deepEqual(await run(ledger, 'page', '', '', '2', 'e'), { keys: ['e'], bookmark: '', fetched: 1 });
  });

  test('paginated queries are for read-only transactions', async () => {
    const r = await probe.simulate(input('pageThenWrite'), await seeded(['a']));
    assert.equal(r.status, 500);
    assert.match(r.message, /paginated query/);
  });
});

describe('simulator: MVCC and phantom validation', () => {
  test('a key changed since it was read invalidates the transaction', async () => {
    const ledger = await seeded(['a']);
    const stale = await probe.simulate(input('putAndRead', ['a', 'stale']), ledger);
    await run(ledger, 'put', 'a', 'newer');
    assert.equal(ledger.commit({ txId: 'stale', timestamp: new Date(), rwset: stale.rwset }), 'MVCC_READ_CONFLICT');
    assert.equal(ledger.get('a')?.value.toString(), 'newer');
  });

  test('a key inserted into or deleted from a range read is a phantom', async () => {
    for (const change of [(l: MemoryLedger) => run(l, 'put', 'bb', 'x'), (l: MemoryLedger) => run(l, 'del', 'b')]) {
      const ledger = await seeded(['a', 'b', 'c']);
      const r = await probe.simulate(input('range', ['a', 'c']), ledger);
      await change(ledger);
      assert.equal(ledger.commit({ txId: 'p', timestamp: new Date(), rwset: r.rwset }), 'PHANTOM_READ_CONFLICT');
    }
  });
});

describe('simulator: history', () => {
  test('key history reaches chaincode newest first, deletes included', async () => {
    const ledger = new MemoryLedger();
    const ids: string[] = [];
    for (const [fn, args] of [
      ['put', ['k', '1']],
      ['put', ['k', '2']],
      ['del', ['k']],
      ['put', ['k', '3']],
    ] as const) {
      const sim = input(fn, [...args]);
      const r = await probe.simulate(sim, ledger);
      ledger.commit({ txId: sim.txId, timestamp: sim.timestamp, rwset: r.rwset });
      ids.push(sim.txId);
    }
    assert.deepEqual(await run(ledger, 'history', 'k'), [`${ids[3]}:3`, `${ids[2]}:delete`, `${ids[1]}:2`, `${ids[0]}:1`]);
  });
});

describe('key order', () => {
  test('compareKeys orders by UTF-8 bytes, unlike JavaScript string comparison', () => {
    const keys = ['\u{10000}', '\uffff', 'b', 'a\u0000', 'a'];
    assert.deepEqual([...keys].sort(compareKeys), ['a', 'a\u0000', 'b', '\uffff', '\u{10000}']);
    const bytes = [...keys].sort((x, y) => Buffer.compare(Buffer.from(x), Buffer.from(y)));
    assert.deepEqual([...keys].sort(compareKeys), bytes);
  });
});

export type { ReadWriteSet };
