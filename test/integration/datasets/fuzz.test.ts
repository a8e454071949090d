import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { DatasetsApi, type Who } from './client';

/**
 * Random and malformed input to every dataset route: never a 500, and nothing read or
 * written outside a dataset. File names the generators use are marked PLANTED so a stray
 * write is easy to find.
 */
let api: DatasetsApi;
let base: string;
let roots: string;
let outside: string;
let id = '';

before(async () => {
  base = await mkdtemp(join(tmpdir(), 'lf-fuzz-'));
  roots = join(base, 'roots');
  outside = join(base, 'outside');
  await mkdir(join(roots, 'owned'), { recursive: true });
  await mkdir(outside);
  await writeFile(join(outside, 'secret.txt'), 'outside secret');
  api = await DatasetsApi.start({ LOCAL_DATASET_ROOTS: JSON.stringify({ uis: [roots], uio: [roots], uib: [roots] }), LEASE_EXPIRY_SCHEDULE: '0 0 0 1 1 *' });
  const r = await api.call('alice', 'POST', '/datasets', { name: 'target', files: { 'in.txt': 'inside' } });
  assert.equal(r.status, 201, r.text);
  id = r.body.id;
});
after(async () => {
  await api?.host.kill();
  await rm(base, { recursive: true, force: true });
});

const segment = fc.constantFrom('..', '.', '', 'PLANTED', 'PLANTED.txt', 'a', '%2e%2e', '\u0000', '\\..\\', 'x y');
const nastyPath = fc.oneof(
  fc.array(segment, { minLength: 1, maxLength: 5 }).map((s) => s.join('/')),
  fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => `/${s.join('/')}`),
  fc.constantFrom('/etc/passwd', '../../outside/PLANTED', '/tmp/PLANTED', 'a/../../PLANTED'),
  fc.string(),
);
const who = fc.constantFrom<Who>('alice', 'bob', 'carol');
const okStatus = (s: number) => s < 500;

test('random register bodies never cause a 500 or a write outside a dataset', async () => {
  const source = fc.oneof(
    fc.record({
      kind: fc.constant('local'),
      path: fc.oneof(nastyPath, fc.constantFrom(join(roots, '..', 'outside'), join(roots, 'owned'), `${roots}/owned/../../outside`)),
    }),
    fc.record({ kind: fc.constant('azure-files'), shareUrl: fc.oneof(fc.webUrl(), fc.string()), credential: fc.string() }),
    fc.anything(),
  );
  const body = fc.oneof(
    fc.record({ name: fc.oneof(fc.string(), fc.anything()), files: fc.dictionary(nastyPath, fc.string(), { maxKeys: 4 }) }, { requiredKeys: ['name'] }),
    fc.record({ name: fc.constant('n'), source, files: fc.dictionary(nastyPath, fc.string(), { maxKeys: 3 }) }, { requiredKeys: ['name'] }),
    fc.anything(),
    fc.string().map((s) => ({ raw: s })),
  );
  await fc.assert(
    fc.asyncProperty(who, body, async (w, b) => {
      const payload = typeof b === 'object' && b !== null && 'raw' in b ? (b as { raw: string }).raw : b;
      const r = await api.call(w, 'POST', '/datasets', payload === undefined ? 'undefined' : payload);
      assert.ok(okStatus(r.status), `${r.status} ${r.text}`);
    }),
    { numRuns: 60 },
  );
  assert.deepEqual(await readdir(outside), ['secret.txt']);
  assert.equal(await readFile(join(outside, 'secret.txt'), 'utf8'), 'outside secret');
  assert.deepEqual(await planted(api.host.dataDir, join(api.host.dataDir, 'datasets')), []);
  assert.deepEqual(await planted(base, join(roots, 'owned')), []);
  assert.deepEqual(
    (await readdir(tmpdir())).filter((n) => n.includes('PLANTED')),
    [],
  );
});

test('random ids and path segments on every route never cause a 500', async () => {
  const idLike = fc.oneof(
    nastyPath.map(encodeURIComponent),
    fc.constantFrom('..', '%2e%2e', '%2F', 'a'.repeat(32), id.toUpperCase(), `${id}%00`),
    fc.stringMatching(/^[0-9a-f]{30,34}$/),
  );
  const route = fc.constantFrom(['GET', ''], ['PATCH', ''], ['DELETE', ''], ['GET', '/tree'], ['POST', '/lease'], ['DELETE', '/lease'], ['GET', '/history']);
  const body = fc.oneof(fc.constant(undefined), fc.anything(), fc.record({ name: fc.string(), ttlSeconds: fc.integer() }, { requiredKeys: [] }));
  await fc.assert(
    fc.asyncProperty(who, idLike, route, body, async (w, rawId, [method, suffix], b) => {
      // DELETE of the real dataset would end the run early; any other id may be deleted.
      fc.pre(!(method === 'DELETE' && suffix === '' && rawId === id));
      const r = await api.call(w, method!, `/datasets/${rawId}${suffix}`, b);
      assert.ok(okStatus(r.status), `${method} ${rawId}${suffix}: ${r.status} ${r.text}`);
    }),
    { numRuns: 80 },
  );
  const tree = await api.call('alice', 'GET', `/datasets/${id}/tree`);
  assert.deepEqual(tree.body.items, [{ path: 'in.txt', type: 'file', size: 6 }]);
});

test('random query strings on the listing never cause a 500', async () => {
  const value = fc.oneof(fc.string(), fc.integer().map(String), fc.constantFrom('leased', 'free', '-1', '1e9', '%00'));
  await fc.assert(
    fc.asyncProperty(fc.dictionary(fc.constantFrom('limit', 'cursor', 'owner', 'state', 'x'), value), async (q) => {
      const r = await api.call('carol', 'GET', `/datasets?${new URLSearchParams(q)}`);
      assert.ok(okStatus(r.status), `${JSON.stringify(q)}: ${r.status} ${r.text}`);
    }),
    { numRuns: 40 },
  );
});

/** Files or directories named PLANTED under `dir` but outside `allowed`. */
async function planted(dir: string, allowed: string): Promise<string[]> {
  const hits: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const path = join(entry.parentPath, entry.name);
    if (entry.name.includes('PLANTED') && relative(allowed, path).startsWith('..')) hits.push(path);
  }
  return hits;
}
