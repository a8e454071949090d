import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { startHost, type TestHost } from '../../../bench/support/host';
import { openApiPath } from '../../../src/api/openapi';
import { routeTable, type ApiRoute } from '../../../src/api/routes';

/**
 * GET /api/openapi.json is served anonymously, is a well-formed OpenAPI 3.1 document of
 * every route in the route table, and every real answer of the running host (successes and
 * errors, driven over HTTP) is documented for its status and validates against it (ajv,
 * JSON Schema 2020-12 as OpenAPI 3.1 uses it).
 */
const TOKENS = { alice: 'oa-alice', bob: 'oa-bob', carol: 'oa-carol' } as const;
type Who = keyof typeof TOKENS;
const USERS = { alice: { user: 'alice', org: 'uis' }, bob: { user: 'bob', org: 'uio' }, carol: { user: 'carol', org: 'uib' } };

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- the document under test is inspected freely
type Doc = any;
let host: TestHost;
let doc: Doc;
let ajv: Ajv2020;
let registered: Set<string>;
const checked = new Set<string>();

before(async () => {
  const tokens = Object.fromEntries(Object.entries(TOKENS).map(([who, token]) => [token, USERS[who as Who]]));
  host = await startHost({ settings: { LEDGERFLOW_TOKENS: JSON.stringify(tokens), LEDGER: 'embedded', KEY_STORE: 'file', STORAGE: 'local' } });
  const started = await host.waitForLog((l) => l['msg'] === 'host started');
  registered = new Set(started['functions'] as string[]);
  const res = await fetch(`${host.url}/api/openapi.json`);
  assert.equal(res.status, 200);
  doc = await res.json();
  // strict: false: the document carries OpenAPI keywords around its schemas.
  ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  ajv.addSchema(doc, 'openapi.json');
});
after(() => host?.kill());

function operation(route: ApiRoute): Doc {
  return doc.paths[openApiPath(route.path)]?.[route.method.toLowerCase()];
}

/** Sends a request as `who` and checks the answer against the document. */
async function call(routeName: string, who: Who | null, path: string, body?: unknown): Promise<{ status: number; body: Doc }> {
  const route = routeTable.find((r) => r.name === routeName);
  assert.ok(route, routeName);
  const res = await fetch(`${host.url}/api/${path}`, {
    method: route.method,
    headers: { ...(who === null ? {} : { authorization: `Bearer ${TOKENS[who]}` }), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await res.text();
  const documented = operation(route).responses[String(res.status)];
  assert.ok(documented, `${route.method} ${path} answered ${res.status}, which ${routeName} does not document: ${text}`);
  const schemaRef = documented.content?.['application/json']?.schema?.$ref as string | undefined;
  let parsed: unknown;
  if (schemaRef !== undefined) {
    parsed = JSON.parse(text);
    const validate = ajv.getSchema(`openapi.json${schemaRef}`);
    assert.ok(validate, schemaRef);
    assert.ok(validate(parsed), `${routeName} ${res.status} does not match ${schemaRef}: ${ajv.errorsText(validate.errors)}\n${text}`);
  } else if (documented.content === undefined) {
    assert.equal(text, '', `${routeName} ${res.status} documents no body`);
  }
  checked.add(`${routeName} ${res.status}`);
  return { status: res.status, body: parsed };
}

test('the document: OpenAPI 3.1, every route of the table, every reference resolves', () => {
  assert.equal(doc.openapi, '3.1.0');
  assert.equal(typeof doc.info.version, 'string');
  for (const route of routeTable) {
    const op = operation(route);
    assert.ok(op, `${route.method} ${route.path} is missing`);
    assert.equal(op.operationId, route.name);
    for (const name of [...route.path.matchAll(/\{\*?(\w+)/g)].map((m) => m[1])) {
      assert.ok(
        op.parameters.some((p: Doc) => p.in === 'path' && p.name === name && p.required === true),
        `${route.name}: path parameter ${name}`,
      );
    }
    if (route.auth === 'user') assert.equal(op.security, undefined, `${route.name} uses the document's bearer security`);
    else assert.deepEqual(op.security, route.auth === 'none' ? [] : [{ callbackToken: [] }]);
  }
  const refs = [...JSON.stringify(doc).matchAll(/"\$ref":"([^"]+)"/g)].map((m) => m[1] as string);
  assert.ok(refs.length > 20);
  for (const ref of new Set(refs)) assert.ok(ajv.getSchema(`openapi.json${ref}`), `unresolved ${ref}`);
  const ids = routeTable.map((r) => r.name);
  assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
});

test('health and the document itself answer anonymously', async () => {
  await call('health', null, 'health');
  await call('openapi', null, 'openapi.json');
});

test('dataset and lease routes: real answers match the document', async () => {
  const reg = await call('datasetsRegister', 'alice', 'datasets', { name: 'contract', description: 'd', files: { 'a.txt': 'lorem\n', 'b/c.txt': 'x\n' } });
  assert.equal(reg.status, 201);
  const id = reg.body.id as string;
  assert.equal((await call('datasetsRegister', 'alice', 'datasets', { name: '', extra: 1 })).status, 400);
  assert.equal((await call('datasetsRegister', null, 'datasets', { name: 'x' })).status, 401);

  assert.equal((await call('datasetsList', 'bob', 'datasets?limit=1')).status, 200);
  assert.equal((await call('datasetsList', 'bob', 'datasets?limit=0')).status, 400);
  assert.equal((await call('datasetsGet', 'bob', `datasets/${id}`)).status, 200);
  assert.equal((await call('datasetsGet', 'bob', `datasets/${'0'.repeat(32)}`)).status, 404);
  assert.equal((await call('datasetsGet', 'bob', 'datasets/nope')).status, 400);
  assert.equal((await call('datasetsUpdate', 'alice', `datasets/${id}`, { description: 'new', policy: { leaseTtlSeconds: 60 } })).status, 200);
  assert.equal((await call('datasetsUpdate', 'bob', `datasets/${id}`, { description: 'mine now' })).status, 403);
  assert.equal((await call('datasetsTree', 'alice', `datasets/${id}/tree`)).status, 200);
  assert.equal((await call('datasetsTree', 'carol', `datasets/${id}/tree`)).status, 403);

  assert.equal((await call('leasesTake', 'bob', `datasets/${id}/lease`, { ttlSeconds: 120 })).status, 201);
  const held = await call('leasesTake', 'carol', `datasets/${id}/lease`);
  assert.equal(held.status, 409);
  assert.equal(held.body.error.code, 'lease_held');
  assert.equal((await call('datasetsGet', 'carol', `datasets/${id}`)).status, 200); // with its lease
  assert.equal((await call('datasetsTree', 'bob', `datasets/${id}/tree`)).status, 200);
  assert.equal((await call('leasesRelease', 'carol', `datasets/${id}/lease`)).status, 403);
  assert.equal((await call('leasesRelease', 'bob', `datasets/${id}/lease`)).status, 204);
  assert.equal((await call('datasetsHistory', 'carol', `datasets/${id}/history`)).status, 200);

  assert.equal((await call('datasetsDelete', 'bob', `datasets/${id}`)).status, 403);
  assert.equal((await call('datasetsDelete', 'alice', `datasets/${id}`)).status, 200);
  assert.equal((await call('datasetsGet', 'alice', `datasets/${id}`)).status, 410);
  assert.equal((await call('leasesTake', 'bob', `datasets/${id}/lease`)).status, 410);
});

test('workflow routes: real answers match the document', async () => {
  assert.ok(registered.has('workflowsSubmit'), 'the workflow routes are registered');
  const reg = await call('datasetsRegister', 'alice', 'datasets', { name: 'wf-data', files: { 'n.txt': 'lorem lorem\n' } });
  const id = reg.body.id as string;
  const spec = (datasetId: string) =>
    `jobs:\n  - command: 'cat /data/n.txt > out.txt; echo logged'\n    name: copy\n    volumes: [{id: '${datasetId}', name: d, path: /data}]\n  - command: 'wc -w out.txt'\ndags: [copy >> 2]\n`;
  const refused = await call('workflowsSubmit', 'alice', 'workflows', { workflow: spec(id) });
  assert.equal(refused.status, 403); // not leased yet
  assert.equal((await call('workflowsSubmit', 'alice', 'workflows', { workflow: 'jobs: [{command: ""}]\ndags: [1 >> 7]' })).status, 400);
  assert.equal((await call('workflowsSubmit', null, 'workflows', { workflow: spec(id) })).status, 401);
  for (const [name, path] of [
    ['workflowsList', 'workflows'],
    ['workflowsGet', 'workflows/x'],
    ['workflowsCancel', 'workflows/x/cancel'],
    ['workflowsJobLogs', 'workflows/x/jobs/j/logs'],
    ['workflowsFile', 'workflows/x/files/a.txt'],
  ] as const) {
    assert.equal((await call(name, null, path)).status, 401, `${name} without a token`);
  }
  assert.equal((await call('workflowsGet', 'alice', `workflows/${'x'.repeat(200)}`)).status, 400); // the published id limit is enforced
  assert.equal((await call('leasesTake', 'alice', `datasets/${id}/lease`)).status, 201);
  const accepted = await call('workflowsSubmit', 'alice', 'workflows', { workflow: spec(id) });
  assert.equal(accepted.status, 202);
  const run = accepted.body.id as string;
  let view: Doc;
  const deadline = Date.now() + 60_000;
  for (;;) {
    view = (await call('workflowsGet', 'alice', `workflows/${run}`)).body;
    if (['Succeeded', 'Failed', 'Canceled'].includes(view.status)) break;
    assert.ok(Date.now() < deadline, `the run did not finish within a minute: ${JSON.stringify(view)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal(view.status, 'Succeeded', JSON.stringify(view));
  assert.equal((await call('workflowsGet', 'bob', `workflows/${run}`)).status, 404); // another organization
  assert.equal((await call('workflowsList', 'alice', 'workflows?limit=5')).status, 200);
  assert.equal((await call('workflowsList', 'alice', 'workflows?status=Done')).status, 400);
  assert.equal((await call('workflowsJobLogs', 'alice', `workflows/${run}/jobs/copy/logs`)).status, 200);
  assert.equal((await call('workflowsJobLogs', 'alice', `workflows/${run}/jobs/nope/logs`)).status, 404);
  assert.equal((await call('workflowsFile', 'alice', `workflows/${run}/files/out.txt`)).status, 200);
  assert.equal((await call('workflowsFile', 'alice', `workflows/${run}/files/missing.txt`)).status, 404);
  assert.equal((await call('workflowsCancel', 'alice', `workflows/${run}/cancel`)).status, 409);
  const results = await call('workflowsResults', 'alice', `workflows/${run}/results`);
  assert.equal(results.status, 200);
  assert.equal(results.body.state, 'released'); // the owner's own run: nothing to review
  assert.equal((await call('workflowsResults', 'bob', `workflows/${run}/results`)).status, 404);
  assert.equal((await call('workflowsResultsRelease', 'alice', `workflows/${run}/results/release`)).status, 403); // nobody reviews it
  assert.equal((await call('workflowsResultsReject', 'alice', `workflows/${run}/results/reject`, {})).status, 400);
  assert.equal((await call('workflowsResultsReject', 'bob', `workflows/${run}/results/reject`, { reason: 'no' })).status, 403);
  for (const [name, path] of [
    ['workflowsResults', `workflows/${run}/results`],
    ['workflowsResultsRelease', `workflows/${run}/results/release`],
    ['workflowsResultsReject', `workflows/${run}/results/reject`],
  ] as const) {
    assert.equal((await call(name, null, path)).status, 401, `${name} without a token`);
  }
  const slow = await call('workflowsSubmit', 'alice', 'workflows', { workflow: `jobs:\n  - command: 'sleep 30'\n` });
  assert.equal((await call('workflowsCancel', 'alice', `workflows/${slow.body.id}/cancel`)).status, 202);
  assert.equal((await call('jobCallback', null, 'callbacks/jobs', { workflowId: run, jobName: 'copy', attempt: 1, exitCode: 0 })).status, 401);
  assert.equal((await call('jobCallback', null, 'callbacks/jobs', { workflowId: run })).status, 400);
});

test('approval routes: real answers match the document', async () => {
  const reg = await call('datasetsRegister', 'alice', 'datasets', { name: 'consent', files: { 'n.txt': 'lorem\n' } });
  const id = reg.body.id as string;
  assert.equal((await call('leasesTake', 'bob', `datasets/${id}/lease`)).status, 201);
  const submitted = await call('workflowsSubmit', 'bob', 'workflows', {
    workflow: `jobs:\n  - command: 'python3 n.py'\n    volumes: [{id: '${id}', name: d, path: /data}]\n`,
    files: { 'n.py': 'print(1)\n' },
  });
  const run = submitted.body.id as string;
  for (;;) {
    const view = (await call('workflowsGet', 'bob', `workflows/${run}`)).body;
    if (view.status === 'AwaitingApproval' && view.approvals !== undefined) break;
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await call('approvalsList', 'alice', 'approvals?state=pending&limit=1')).status, 200);
  assert.equal((await call('approvalsList', 'alice', 'approvals?limit=0')).status, 400);
  assert.equal((await call('approvalsGet', 'alice', `approvals/${run}`)).status, 200);
  assert.equal((await call('approvalsGet', 'carol', `approvals/${run}`)).status, 404);
  assert.equal((await call('approvalsFile', 'alice', `approvals/${run}/files/n.py`)).status, 200);
  assert.equal((await call('approvalsFile', 'alice', `approvals/${run}/files/none.py`)).status, 404);
  assert.equal((await call('approvalsApprove', 'bob', `approvals/${run}/approve`, {})).status, 403);
  assert.equal((await call('approvalsReject', 'alice', `approvals/${run}/reject`, {})).status, 400);
  assert.equal((await call('approvalsReject', 'carol', `approvals/${run}/reject`, { reason: 'no' })).status, 404);
  assert.equal((await call('approvalsApprove', 'alice', `approvals/${run}/approve`, { comment: 'ok' })).status, 200);
  assert.equal((await call('approvalsApprove', 'alice', `approvals/${run}/approve`, {})).status, 409);
  assert.equal((await call('approvalsReject', 'alice', `approvals/${run}/reject`, { reason: 'late' })).status, 409);
  assert.equal((await call('approvalsApprove', 'carol', `approvals/${run}/approve`)).status, 404);
  for (const [name, path] of [
    ['approvalsList', 'approvals'],
    ['approvalsGet', 'approvals/x'],
    ['approvalsFile', 'approvals/x/files/a'],
    ['approvalsApprove', 'approvals/x/approve'],
    ['approvalsReject', 'approvals/x/reject'],
  ] as const) {
    assert.equal((await call(name, null, path)).status, 401, `${name} without a token`);
  }
});

test('every registered route of the table was driven', () => {
  const missing = routeTable.filter((r) => registered.has(r.name) && ![...checked].some((c) => c.startsWith(`${r.name} `)));
  assert.deepEqual(
    missing.map((r) => r.name),
    [],
  );
});
