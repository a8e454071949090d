import { test } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import fc from 'fast-check';
import { newEcdsaSigner, signSync, verifySignature, verifySignatureAsync } from '../../../src/adapters/ledger/ecdsa';

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });

function sOf(der: Uint8Array): bigint {
  const buf = Buffer.from(der);
  const rLen = buf[3]!;
  const sLen = buf[5 + rLen]!;
  return BigInt(`0x${buf.subarray(6 + rLen, 6 + rLen + sLen).toString('hex')}`);
}

test('signatures are low-S and verify', async () => {
  const signer = newEcdsaSigner(privateKey);
  await fc.assert(
    fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), async (message) => {
      const signature = await signer(message);
      assert.ok(sOf(signature) <= N >> 1n);
      assert.ok(verifySignature(publicKey, message, signature));
      assert.ok(!verifySignature(publicKey, Buffer.concat([message, Buffer.from([1])]), signature));
      // The thread-pool check agrees with the synchronous one.
      assert.ok(await verifySignatureAsync(publicKey, message, signature));
      assert.ok(!(await verifySignatureAsync(publicKey, Buffer.concat([message, Buffer.from([1])]), signature)));
    }),
    { numRuns: 50 },
  );
});

test('high-S signatures are refused, as Fabric does', () => {
  const message = Buffer.from('hello');
  for (let i = 0; i < 64; i++) {
    const der = sign('sha256', message, privateKey);
    if (sOf(der) > N >> 1n) {
      assert.equal(verifySignature(publicKey, message, der), false);
      return;
    }
  }
  assert.fail('no high-S signature in 64 tries');
});

test('the thread-pool check refuses high-S signatures too', async () => {
  const message = Buffer.from('hello');
  for (let i = 0; i < 64; i++) {
    const der = sign('sha256', message, privateKey);
    if (sOf(der) > N >> 1n) {
      assert.equal(await verifySignatureAsync(publicKey, message, der), false);
      // A low-S signature of the same message by the same key does verify.
      assert.ok(await verifySignatureAsync(publicKey, message, signSync(privateKey, message)));
      return;
    }
  }
  assert.fail('no high-S signature in 64 tries');
});

test('garbage is not a signature', () => {
  assert.equal(verifySignature(publicKey, Buffer.from('x'), Buffer.from('not a signature')), false);
  assert.equal(verifySignature(publicKey, Buffer.from('x'), new Uint8Array(0)), false);
});

test('garbage is not a signature on the thread pool either', async () => {
  assert.equal(await verifySignatureAsync(publicKey, Buffer.from('x'), Buffer.from('not a signature')), false);
  assert.equal(await verifySignatureAsync(publicKey, Buffer.from('x'), new Uint8Array(0)), false);
  // A well-formed low-S DER whose integers are not a signature at all: OpenSSL answers false.
  assert.equal(await verifySignatureAsync(publicKey, Buffer.from('x'), Buffer.from([0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01])), false);
});
