import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { newDataKey, SealError, sealLocation, unsealLocation } from '../../../src/core/crypto/seal';
import type { DatasetLocation } from '../../../src/ports/datasetStorage';

const locations: fc.Arbitrary<DatasetLocation> = fc.oneof(
  fc.record({ kind: fc.constant('local' as const), path: fc.string() }),
  fc.record({ kind: fc.constant('azure-files' as const), shareUrl: fc.webUrl(), credentialRef: fc.string() }),
);
const ids = fc.stringMatching(/^[0-9a-f]{32}$/);
const isSealError = (reason?: string) => (err: unknown) => err instanceof SealError && (reason === undefined || err.reason === reason);

test('data keys are 256 random bits', () => {
  const a = newDataKey();
  assert.equal(Buffer.from(a, 'base64url').length, 32);
  assert.notEqual(a, newDataKey());
});

test('seal then unseal returns the location', () => {
  fc.assert(
    fc.property(locations, ids, (location, id) => {
      const key = newDataKey();
      assert.deepEqual(unsealLocation(sealLocation(location, key, id), key, id), { ...location });
    }),
  );
});

test('sealing twice gives different ciphertexts (random IV)', () => {
  const key = newDataKey();
  const loc: DatasetLocation = { kind: 'local', path: '/data/x' };
  assert.notEqual(sealLocation(loc, key, 'a'), sealLocation(loc, key, 'a'));
});

test('the sealed value does not contain the location in clear', () => {
  const key = newDataKey();
  const sealed = sealLocation({ kind: 'local', path: '/very/recognisable/path' }, key, 'id');
  assert.ok(!Buffer.from(sealed, 'base64url').toString('latin1').includes('recognisable'));
});

test('another dataset id fails authentication', () => {
  fc.assert(
    fc.property(locations, ids, ids, (location, id, other) => {
      fc.pre(id !== other);
      const key = newDataKey();
      assert.throws(() => unsealLocation(sealLocation(location, key, id), key, other), isSealError('authentication_failed'));
    }),
    { numRuns: 50 },
  );
});

test('another key fails authentication', () => {
  const sealed = sealLocation({ kind: 'local', path: '/x' }, newDataKey(), 'id');
  assert.throws(() => unsealLocation(sealed, newDataKey(), 'id'), isSealError('authentication_failed'));
});

test('any flipped bit fails with a typed error', () => {
  const key = newDataKey();
  const sealed = Buffer.from(sealLocation({ kind: 'azure-files', shareUrl: 'https://a/b', credentialRef: 'ds-x-credential' }, key, 'id'), 'base64url');
  fc.assert(
    fc.property(fc.nat({ max: sealed.length - 1 }), fc.integer({ min: 0, max: 7 }), (index, bit) => {
      const tampered = Buffer.from(sealed);
      tampered[index] = tampered[index]! ^ (1 << bit);
      assert.throws(() => unsealLocation(tampered.toString('base64url'), key, 'id'), isSealError());
    }),
  );
});

test('garbage, truncation and bad keys fail with a typed error', () => {
  const key = newDataKey();
  const sealed = sealLocation({ kind: 'local', path: '/x' }, key, 'id');
  assert.throws(() => unsealLocation(sealed.slice(0, 20), key, 'id'), isSealError('malformed'));
  assert.throws(() => unsealLocation('!!!not base64!!!', key, 'id'), isSealError('malformed'));
  assert.throws(() => unsealLocation(sealed, 'short', 'id'), isSealError('bad_key'));
  fc.assert(
    fc.property(fc.string(), (garbage) => {
      assert.throws(() => unsealLocation(garbage, key, 'id'), isSealError());
    }),
  );
});
