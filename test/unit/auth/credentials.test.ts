import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Authenticator, type HeaderSource } from '../../../src/core/auth/credentials';
import { LedgerflowError } from '../../../src/core/errors';

const headers = (h: Record<string, string>): HeaderSource => ({ get: (n) => h[n.toLowerCase()] ?? null });
const tokens = { 'tok-uis-0123456789': { user: 'alice', org: 'uis' }, 'tok-uio-0123456789': { user: 'bob', org: 'uio' } };
const principal = (claims: { typ: string; val: string }[]) =>
  Buffer.from(JSON.stringify({ auth_typ: 'aad', name_typ: 'name', role_typ: 'roles', claims })).toString('base64');
const code = (c: string) => (err: unknown) => err instanceof LedgerflowError && err.code === c;

test('a configured bearer token gives its caller', () => {
  const auth = new Authenticator(tokens, undefined);
  assert.deepEqual(auth.authenticate(headers({ authorization: 'Bearer tok-uio-0123456789' })), { user: 'bob', org: 'uio' });
});

test('missing, malformed and unknown tokens are unauthenticated', () => {
  const auth = new Authenticator(tokens, undefined);
  for (const h of [
    {} as Record<string, string>,
    { authorization: 'Basic abc' },
    { authorization: 'Bearer' },
    { authorization: 'Bearer tok-uis-012345678' },
    { authorization: 'Bearer tok-uis-0123456789x' },
  ]) {
    assert.throws(() => auth.authenticate(headers(h)), code('unauthenticated'));
  }
  fc.assert(
    fc.property(fc.string(), (value) => {
      fc.pre(!Object.keys(tokens).some((t) => value.trim() === `Bearer ${t}`));
      assert.throws(() => auth.authenticate(headers({ authorization: value })), code('unauthenticated'));
    }),
  );
});

test('the client principal header is ignored unless a principal map is configured', () => {
  const p = principal([
    { typ: 'tid', val: 'T1' },
    { typ: 'name', val: 'dana@uis.no' },
  ]);
  assert.throws(() => new Authenticator(tokens, undefined).authenticate(headers({ 'x-ms-client-principal': p })), code('unauthenticated'));
  const auth = new Authenticator({}, { 'tid:T1': 'uis', 'group:G2': 'uio' });
  assert.deepEqual(auth.authenticate(headers({ 'x-ms-client-principal': p })), { user: 'dana@uis.no', org: 'uis' });
});

test('a principal maps to exactly one organization, else 403; garbage is 401', () => {
  const auth = new Authenticator({}, { 'tid:T1': 'uis', 'group:G2': 'uio', 'role:uib-member': 'uib' });
  const both = principal([
    { typ: 'tid', val: 'T1' },
    { typ: 'groups', val: 'G2' },
    { typ: 'name', val: 'x' },
  ]);
  assert.throws(() => auth.authenticate(headers({ 'x-ms-client-principal': both })), code('forbidden'));
  const none = principal([
    { typ: 'tid', val: 'T9' },
    { typ: 'name', val: 'x' },
  ]);
  assert.throws(() => auth.authenticate(headers({ 'x-ms-client-principal': none })), code('forbidden'));
  const role = principal([
    { typ: 'roles', val: 'uib-member' },
    { typ: 'name', val: 'erin' },
  ]);
  assert.deepEqual(auth.authenticate(headers({ 'x-ms-client-principal': role })), { user: 'erin', org: 'uib' });
  assert.throws(() => auth.authenticate(headers({ 'x-ms-client-principal': 'not base64 json' })), code('unauthenticated'));
});

test('behind App Service authentication the principal decides, not the Entra bearer token it forwards', () => {
  const auth = new Authenticator(tokens, { 'role:org.uio': 'uio' });
  const p = principal([
    { typ: 'roles', val: 'org.uio' },
    { typ: 'name', val: 'frank@uio.no' },
  ]);
  assert.deepEqual(auth.authenticate(headers({ authorization: 'Bearer eyJ.entra.token', 'x-ms-client-principal': p })), { user: 'frank@uio.no', org: 'uio' });
  // Without a principal map the header is not trusted, and the bearer token is checked as before.
  assert.throws(
    () => new Authenticator(tokens, undefined).authenticate(headers({ authorization: 'Bearer eyJ.entra.token', 'x-ms-client-principal': p })),
    code('unauthenticated'),
  );
});

test("no request acts as the platform's own identity (its ledger certificate carries the platform role)", () => {
  const platform = { user: 'ledgerflow', org: 'uis' };
  const auth = new Authenticator({ ...tokens, 'tok-platform-0123456789': platform }, { 'tid:T1': 'uis' }, platform);
  assert.throws(() => auth.authenticate(headers({ authorization: 'Bearer tok-platform-0123456789' })), code('forbidden'));
  const named = principal([
    { typ: 'tid', val: 'T1' },
    { typ: 'name', val: 'ledgerflow' },
  ]);
  assert.throws(() => auth.authenticate(headers({ 'x-ms-client-principal': named })), code('forbidden'));
  // Another user of the platform's organization, or the same name in another one, is no platform.
  assert.deepEqual(auth.authenticate(headers({ authorization: 'Bearer tok-uis-0123456789' })), { user: 'alice', org: 'uis' });
});
