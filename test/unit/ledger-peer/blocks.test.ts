import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { blockDataHash, blockHeaderHash, buildBlock, transactionsFilter } from '../../../src/ledger-peer/blocks';
import { encodeRwset, decodeRwset } from '../../../src/ledger-peer/rwset';
import type { ReadWriteSet } from '../../../src/ledger-peer/simulator';

test('block header hash is sha256 of the ASN.1 DER header, as Fabric computes it', () => {
  const prev = Buffer.alloc(32, 1);
  const data = Buffer.alloc(32, 2);
  // SEQUENCE { INTEGER 5, OCTET STRING prev, OCTET STRING data }
  const der = Buffer.concat([Buffer.from([0x30, 3 + 34 + 34, 0x02, 0x01, 0x05, 0x04, 32]), prev, Buffer.from([0x04, 32]), data]);
  assert.deepEqual(blockHeaderHash(5, prev, data), createHash('sha256').update(der).digest());
  // Numbers with the high bit set get a leading zero byte; genesis has an empty previous hash.
  const der128 = Buffer.concat([Buffer.from([0x30, 4 + 2 + 34, 0x02, 0x02, 0x00, 0x80, 0x04, 0x00, 0x04, 32]), data]);
  assert.deepEqual(blockHeaderHash(128, new Uint8Array(0), data), createHash('sha256').update(der128).digest());
});

test('a block carries its envelopes, data hash and validation codes', () => {
  const envelopes = [Buffer.from('tx-one'), Buffer.from('tx-two')];
  const { block, headerHash } = buildBlock(3, Buffer.alloc(32), envelopes, [0, 11]);
  assert.deepEqual(Buffer.from(block.getHeader()!.getDataHash_asU8()), blockDataHash(envelopes));
  assert.deepEqual(blockDataHash(envelopes), createHash('sha256').update('tx-onetx-two').digest());
  assert.deepEqual([...transactionsFilter(block)], [0, 11]);
  assert.deepEqual(headerHash, blockHeaderHash(3, Buffer.alloc(32), blockDataHash(envelopes)));
});

test('read/write sets survive the KVRWSet encoding', () => {
  const rwset: ReadWriteSet = {
    reads: [
      { key: 'a', version: { blockNum: 4, txNum: 2 } },
      { key: '\u0000lease\u0000x\u0000', version: null },
    ],
    rangeReads: [{ startKey: 'a', endKey: '', exhausted: false, keys: [{ key: 'a', version: { blockNum: 1, txNum: 0 } }] }],
    writes: [
      { key: 'a', value: Buffer.from('{"x":1}') },
      { key: 'b', value: null },
    ],
  };
  assert.deepEqual(decodeRwset(encodeRwset('ledgerflow', rwset)), [{ namespace: 'ledgerflow', rwset }]);
});
