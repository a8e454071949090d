import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildOpenApiDocument, openApiPath } from '../../../src/api/openapi';
import { routes, routeTable } from '../../../src/api/routes';

test('paths: Functions templates become OpenAPI paths', () => {
  assert.equal(openApiPath('datasets/{id}/lease'), '/datasets/{id}/lease');
  assert.equal(openApiPath('workflows/{id}/files/{*path}'), '/workflows/{id}/files/{path}');
  assert.equal(openApiPath('x/{n:int}/{opt?}'), '/x/{n}/{opt}');
});

test('the document: one operation per route, named components, errors and auth on every route', () => {
  const doc = buildOpenApiDocument(routeTable, { version: '1.2.3' });
  assert.equal(doc.info.version, '1.2.3');
  const operations = Object.values(doc.paths).flatMap((p) => Object.values(p)) as { operationId: string; responses: Record<string, unknown> }[];
  assert.equal(operations.length, routeTable.length);
  for (const name of ['Dataset', 'Error', 'WorkflowView']) assert.ok(doc.components.schemas[name], name);
  for (const name of ['DatasetsRegisterRequest', 'WorkflowsSubmitRequest']) assert.ok(doc.components.requestBodies[name], name);
  const take = doc.paths['/datasets/{id}/lease']?.['post'] as { responses: Record<string, unknown>; requestBody: { $ref: string } };
  assert.deepEqual(Object.keys(take.responses).sort(), ['201', '400', '401', '404', '409', '410', '500', '503']);
  assert.equal(take.requestBody.$ref, '#/components/requestBodies/LeasesTakeRequest');
  assert.equal((doc.components.requestBodies['LeasesTakeRequest'] as { required: boolean }).required, false); // the lease body is optional
  // Every tag is described, and the license is named (Redocly's recommended-strict rules).
  for (const tag of doc.tags) assert.ok(tag.description.length > 0, tag.name);
  assert.equal(doc.info.license.identifier, 'Apache-2.0');
  const health = doc.paths['/health']?.['get'] as { responses: Record<string, unknown>; security: unknown[] };
  assert.deepEqual(health.security, []);
  assert.equal(health.responses['401'], undefined);
  assert.ok(health.responses['400'], 'an unknown query parameter is refused');
  // Request bodies are described as sent (before defaults), answers as received.
  const list = doc.paths['/datasets']?.['get'] as { parameters: { name: string; required: boolean }[] };
  assert.deepEqual(
    list.parameters.map((p) => [p.name, p.required]),
    [
      ['limit', false],
      ['cursor', false],
      ['owner', false],
      ['state', false],
    ],
  );
  assert.equal(routes.datasetsRegister.body, routeTable.find((r) => r.name === 'datasetsRegister')?.body);
});
