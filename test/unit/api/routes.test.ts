import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { registerBody } from '../../../src/api/datasetRequests';
import { routes, routeTable } from '../../../src/api/routes';
import { errorBody } from '../../../src/api/schemas';

test("a route's schemas, built on first use, are the same objects at every look", () => {
  for (const route of routeTable) {
    assert.equal(route.params, route.params, route.name);
    assert.equal(route.query, route.query, route.name);
    assert.equal(route.body, route.body, route.name);
    for (const [status, answer] of Object.entries(route.responses))
      assert.equal(answer.schema, route.responses[Number(status)]?.schema, `${route.name} ${status}`);
  }
  assert.equal(routes.datasetsRegister.body, registerBody);
  assert.equal(routes.datasetsGet.responses[404].schema, errorBody);
  // Routes that share a parameter share its schema, as when the table was built at load.
  assert.equal(routes.workflowsFile.params.shape.id, routes.workflowsGet.params.shape.id);
  assert.equal(routes.datasetsGet.params, routes.datasetsTree.params);
});

test("the app's entry loads the route table without building its request and answer schemas; validating builds them", () => {
  const api = (name: string) => require.resolve(`../../../src/api/${name}`);
  const script = `
    require(${JSON.stringify(require.resolve('../../../src/loading/deferredModules'))});
    const { routes } = require(${JSON.stringify(api('routes'))});
    const { types } = require('node:util');
    const built = () => ${JSON.stringify([api('datasetRequests'), api('schemas')])}.map((f) => !types.isProxy(require.cache[f]?.exports));
    const before = built();
    const result = routes.datasetsRegister.body.safeParse({});
    process.stdout.write(JSON.stringify({ before, after: built(), issues: result.error.issues.map((i) => i.path.join('.')) }));`;
  const out = spawnSync(process.execPath, ['-e', script], { cwd: __dirname, encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  const { before, after, issues } = JSON.parse(out.stdout) as { before: boolean[]; after: boolean[]; issues: string[] };
  assert.deepEqual(before, [false, false]);
  assert.deepEqual(after, [true, false], 'the body schema only; the answers are built with the OpenAPI document');
  assert.deepEqual(issues, ['name']);
});
