import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, fileDigest, filesHash, specHash } from '../../../src/core/workflow/hash';
import { parseWorkflowSpec } from '../../../src/core/workflow/spec';

test('canonical JSON sorts keys at every level', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
});

test('the hash depends on meaning, not on YAML layout', () => {
  const a = parseWorkflowSpec('jobs:\n  - command: ls\n    env: {A: "1", B: "2"}\n  - pwd\ndags: [1 >> 2]\n');
  const b = parseWorkflowSpec('dags:\n- "1>>2"\njobs: [{env: {B: "2", A: 1}, command: ls}, {command: pwd}]\n');
  assert.equal(specHash(a), specHash(b));
  assert.equal(filesHash({ 'x.py': 'print(1)', 'y.py': '' }), filesHash({ 'y.py': '', 'x.py': 'print(1)' }));
  assert.match(specHash(a), /^[0-9a-f]{64}$/);
  assert.notEqual(filesHash({}), filesHash({ 'x.py': '' }));
});

test('every part of what runs changes the spec hash; every file byte and path the files hash', () => {
  const base =
    'jobs:\n  - command: ls\n    image: python:3\n    env: {A: "1"}\n    resources: {cpu: "1", memory: 1Gi}\n    volumes: [{id: \'00000000000000000000000000000001\', name: d, path: /data/d}]\n  - pwd\ndags: [1 >> 2]\n';
  const variants = [
    base.replace('command: ls', 'command: tar czf out.tgz /data/d'),
    base.replace('python:3', 'python:4'),
    base.replace('A: "1"', 'A: "2"'),
    base.replace('cpu: "1"', 'cpu: "2"'),
    base.replace('/data/d', '/data/e'),
    base.replace('dags: [1 >> 2]', 'dags: [2 >> 1]'),
  ];
  const hashes = new Set([base, ...variants].map((y) => specHash(parseWorkflowSpec(y))));
  assert.equal(hashes.size, variants.length + 1);
  assert.notEqual(filesHash({ 'x.py': 'print(1)' }), filesHash({ 'x.py': 'print(2)' }));
  assert.notEqual(filesHash({ 'x.py': 'print(1)' }), filesHash({ 'z.py': 'print(1)' }));
  assert.equal(fileDigest('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});
