import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { leaseBody, listQuery, registerBody, updateBody } from '../../../src/api/datasetRequests';

const paths = (r: { success: boolean; error?: { issues: { path: PropertyKey[] }[] } }) => (r.error?.issues ?? []).map((i) => i.path.map(String).join('.'));

test('a register body names every bad field at once', () => {
  const r = registerBody.safeParse({
    name: '',
    policy: { leaseTtlSeconds: -1, extra: 1 },
    files: { '../x': 'a', '/abs': 'b', 'ok.txt': 'c' },
    source: { kind: 'azure-files', shareUrl: 'ftp://x/y', credential: '' },
    unknown: true,
  });
  assert.equal(r.success, false);
  const got = paths(r);
  for (const p of ['name', 'policy.leaseTtlSeconds', 'policy', 'source.credential', '']) assert.ok(got.includes(p), `${p} in ${got.join(', ')}`);
});

test('file-path and share-url problems are reported with the others', () => {
  const r = registerBody.safeParse({
    name: 'n',
    files: { '../x': 'a', 'a/../b': 'b' },
    source: { kind: 'azure-files', shareUrl: 'http://example.com/acct/share', credential: 'TOPSECRET' },
  });
  assert.deepEqual(paths(r).sort(), ['files["../x"]', 'files["a/../b"]', 'source.shareUrl'].sort());
  assert.equal(JSON.stringify(r.error).includes('TOPSECRET'), false);
});

test('no input makes a schema throw; a credential is never echoed in an issue', () => {
  fc.assert(
    fc.property(fc.anything(), fc.string({ minLength: 8 }), (value, secret) => {
      for (const schema of [registerBody, updateBody, leaseBody, listQuery]) schema.safeParse(value);
      const r = registerBody.safeParse({ name: 42, source: { kind: 'azure-files', shareUrl: value, credential: secret }, files: value });
      if (!r.success) {
        for (const issue of r.error.issues) assert.equal(issue.message.includes(secret), false);
      }
    }),
  );
});

test('lease bodies: empty, a ttl, or an error on ttlSeconds', () => {
  assert.equal(leaseBody.parse(undefined), undefined);
  assert.deepEqual(leaseBody.parse({ ttlSeconds: 60 }), { ttlSeconds: 60 });
  assert.deepEqual(paths(leaseBody.safeParse({ ttlSeconds: 'x' })), ['ttlSeconds']);
});

test('list query defaults and bounds', () => {
  assert.deepEqual(listQuery.parse({}), { limit: 50 });
  assert.deepEqual(paths(listQuery.safeParse({ limit: '0', state: 'busy', owner: '../x' })).sort(), ['limit', 'owner', 'state']);
});
