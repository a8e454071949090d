import { test } from 'node:test';
import assert from 'node:assert/strict';
import { canonicalJson, workflowHash } from '../../../src/core/workflow/hash';
import { parseWorkflowSpec } from '../../../src/core/workflow/spec';

test('canonical JSON sorts keys at every level', () => {
  assert.equal(canonicalJson({ b: 1, a: { d: [{ z: 1, y: 2 }], c: null } }), '{"a":{"c":null,"d":[{"y":2,"z":1}]},"b":1}');
});

test('the hash depends on meaning, not on YAML layout', () => {
  const a = parseWorkflowSpec('jobs:\n  - command: ls\n    env: {A: "1", B: "2"}\n  - pwd\ndags: [1 >> 2]\n');
  const b = parseWorkflowSpec('dags:\n- "1>>2"\njobs: [{env: {B: "2", A: 1}, command: ls}, {command: pwd}]\n');
  assert.equal(workflowHash(a, { 'x.py': 'print(1)', 'y.py': '' }), workflowHash(b, { 'y.py': '', 'x.py': 'print(1)' }));
  assert.match(workflowHash(a, {}), /^[0-9a-f]{64}$/);
  assert.notEqual(workflowHash(a, {}), workflowHash(a, { 'x.py': '' }));
});
