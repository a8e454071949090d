import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { compareRank, matchRoute, parseRouteTemplate } from '../../../src/host/http/routeTemplate';

const split = (path: string) => path.split('/').filter((s) => s !== '');
const match = (template: string, path: string) => matchRoute(parseRouteTemplate(template), split(path));

test('literal and parameter segments', () => {
  assert.deepEqual(match('datasets/{id}', 'datasets/abc'), { id: 'abc' });
  assert.deepEqual(match('datasets/{id}', 'DATASETS/abc'), { id: 'abc' });
  assert.equal(match('datasets/{id}', 'datasets'), undefined);
  assert.equal(match('datasets/{id}', 'datasets/a/b'), undefined);
  assert.deepEqual(match('datasets/{id}/lease', 'datasets/x/lease'), { id: 'x' });
});

test('optional and catch-all parameters', () => {
  assert.deepEqual(match('files/{name?}', 'files'), {});
  assert.deepEqual(match('files/{name?}', 'files/a'), { name: 'a' });
  assert.deepEqual(match('workflows/{id}/files/{*path}', 'workflows/w/files/a/b/c.txt'), { id: 'w', path: 'a/b/c.txt' });
  assert.deepEqual(match('workflows/{id}/files/{*path}', 'workflows/w/files'), { id: 'w' });
});

test('constraints', () => {
  assert.deepEqual(match('n/{n:int}', 'n/12'), { n: '12' });
  assert.equal(match('n/{n:int}', 'n/x'), undefined);
  assert.equal(match('g/{g:guid}', 'g/nope'), undefined);
  assert.deepEqual(match('g/{g:guid}', 'g/3f2504e0-4f89-11d3-9a0c-0305e82c3301'), { g: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' });
  assert.deepEqual(match('s/{s:minlength(2):alpha}', 's/ab'), { s: 'ab' });
  assert.equal(match('s/{s:minlength(2):alpha}', 's/a'), undefined);
});

test('bad templates are rejected with the template named', () => {
  assert.throws(() => parseRouteTemplate('a/{*rest}/b'), /a\/\{\*rest\}\/b.*last/);
  assert.throws(() => parseRouteTemplate('a/{x?}/b'), /optional/);
  assert.throws(() => parseRouteTemplate('a/x{y}'), /mixes/);
  assert.throws(() => parseRouteTemplate('a/{y:nonsense}'), /unknown constraint/);
});

test('more specific routes rank first', () => {
  const sorted = ['{*all}', 'datasets/{id}', 'datasets/mine', 'datasets/{id:int}']
    .map(parseRouteTemplate)
    .sort(compareRank)
    .map((r) => r.template);
  assert.deepEqual(sorted, ['datasets/mine', 'datasets/{id:int}', 'datasets/{id}', '{*all}']);
});

test('property: a parameter segment captures any single path segment', () => {
  const segment = fc.string({ minLength: 1, maxLength: 20 }).filter((s) => !s.includes('/'));
  fc.assert(
    fc.property(segment, segment, (a, b) => {
      assert.deepEqual(matchRoute(parseRouteTemplate('x/{a}/y/{b}'), ['x', a, 'y', b]), { a, b });
      assert.deepEqual(matchRoute(parseRouteTemplate('x/{*rest}'), ['x', a, b]), { rest: `${a}/${b}` });
    }),
  );
});
