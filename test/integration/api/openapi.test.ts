import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import Ajv2020 from 'ajv/dist/2020';
import addFormats from 'ajv-formats';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import openapiTS, { astToString } from 'openapi-typescript';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { eventually, startHost, type TestHost } from '../../../bench/support/host';
import { openApiPath } from '../../../src/api/openapi';
import { routeTable, type ApiRoute } from '../../../src/api/routes';

/**
 * GET /api/openapi.json is served anonymously, is a well-formed OpenAPI 3.1 document of
 * every route in the route table, and every real answer of the running host (successes and
 * errors, driven over HTTP) is documented for its status and validates against it (ajv,
 * JSON Schema 2020-12 as OpenAPI 3.1 uses it). It passes Redocly's recommended-strict rules,
 * and a client generated from it by openapi-typescript compiles and makes calls.
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
const run = promisify(execFile);

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
  if (res.status === 401) assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="ledgerflow"', `${routeName}: a 401 names its scheme`);
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
  for (const ref of new Set(refs)) {
    // Schemas compile; request body components (not schemas) are found by their pointer.
    if (ref.startsWith('#/components/schemas/')) assert.ok(ajv.getSchema(`openapi.json${ref}`), `unresolved ${ref}`);
    else
      assert.ok(
        ref
          .slice(2)
          .split('/')
          .reduce((at: Doc, key) => at?.[key.replace(/~1/g, '/').replace(/~0/g, '~')], doc),
        `unresolved ${ref}`,
      );
  }
  const ids = routeTable.map((r) => r.name);
  assert.equal(new Set(ids).size, ids.length, 'operation ids are unique');
});

test('health and the document itself answer anonymously, and refuse a query they do not know', async () => {
  await call('health', null, 'health');
  await call('openapi', null, 'openapi.json');
  assert.deepEqual((await call('me', 'bob', 'me')).body, USERS.bob);
  const typo = await call('health', null, 'health?verbsoe=1');
  assert.equal(typo.status, 400);
  assert.match(JSON.stringify(typo.body.error), /verbsoe/);
  assert.equal((await call('openapi', null, 'openapi.json?x=1')).status, 400);
});

test('every authenticated route answers 401 with a Bearer challenge to a caller without a token, before judging the request', async () => {
  const sample: Record<string, string> = { id: '0'.repeat(32), job: 'j', path: 'a.txt' };
  const users = routeTable.filter((r) => r.auth === 'user' && registered.has(r.name));
  assert.ok(users.length >= 20, `${users.length} routes`);
  for (const route of users) {
    const path = route.path.replace(/\{\*?(\w+)[^}]*\}/g, (_, name: string) => sample[name] ?? 'x');
    assert.equal((await call(route.name, null, path)).status, 401, `${route.method} ${path}`);
  }
});

test("the document passes Redocly's recommended-strict rules", async () => {
  const config = await createConfig({ extends: ['recommended-strict'] });
  const problems = await lintFromString({ source: JSON.stringify(doc), absoluteRef: 'openapi.json', config });
  assert.deepEqual(
    problems.map((p) => `${p.ruleId} at ${p.location[0]?.pointer ?? '?'}: ${p.message}`),
    [],
  );
});

test('a client generated by openapi-typescript compiles under strict settings and makes calls', async (t) => {
  // Under the repo's node_modules, so the generated client resolves openapi-fetch as an app would.
  const root = join(__dirname, '..', '..', '..', '..');
  const dir = mkdtempSync(join(root, 'node_modules', '.lf-generated-client-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'schema.ts'), astToString(await openapiTS(doc)));
  // Fields with defaults (files, options, policy) are left out: that compiles only if the
  // generated request types make them optional, as the server does.
  writeFileSync(
    join(dir, 'client.ts'),
    `import createClient from 'openapi-fetch';
import type { paths } from './schema';

export async function run(baseUrl: string, token: string): Promise<string> {
  const client = createClient<paths>({ baseUrl, headers: { authorization: \`Bearer \${token}\` } });
  const registered = await client.POST('/datasets', { body: { name: 'generated' } });
  if (registered.data === undefined) throw new Error(JSON.stringify(registered.error));
  const id: string = registered.data.id;
  const lease = await client.POST('/datasets/{id}/lease', { params: { path: { id } } });
  if (lease.data === undefined) throw new Error(JSON.stringify(lease.error));
  const submitted = await client.POST('/workflows', { body: { workflow: "jobs:\\n  - command: 'true'\\n" } });
  if (submitted.data === undefined) throw new Error(JSON.stringify(submitted.error));
  const view = await client.GET('/workflows/{id}', { params: { path: { id: submitted.data.id } } });
  if (view.data === undefined) throw new Error(JSON.stringify(view.error));
  const refused = await client.GET('/datasets/{id}', { params: { path: { id: '0'.repeat(32) } } });
  return [id, view.data.status, refused.response.status, refused.error?.error.code].join(' ');
}
`,
  );
  writeFileSync(
    join(dir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        target: 'ES2022',
        module: 'NodeNext',
        moduleResolution: 'NodeNext',
        lib: ['ES2023', 'DOM'],
        types: [],
        skipLibCheck: true,
      },
      files: ['client.ts'],
    }),
  );
  // tsc as its own process, as a user would run it: compiling in this process would stall its
  // event loop for seconds, and the host would close the idle keep-alive socket under it.
  const tsc = await run(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', dir]).catch((e: { stdout?: string }) => e);
  assert.equal('stdout' in tsc && tsc.stdout !== '' ? tsc.stdout : '', '', 'the generated client compiles without errors');
  const client = require(join(dir, 'client.js')) as { run: (baseUrl: string, token: string) => Promise<string> };
  const [id, status, refusedStatus, refusedCode] = (await client.run(`${host.url}/api`, TOKENS.alice)).split(' ');
  assert.match(id!, /^[0-9a-f]{32}$/);
  assert.ok(['Pending', 'Running', 'Succeeded'].includes(status!), status);
  assert.equal(refusedStatus, '404');
  assert.equal(refusedCode, 'not_found');
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
  const pushed = await call('datasetsPushFiles', 'alice', `datasets/${id}/files`, { files: { 'd.txt': 'new\n' } });
  assert.equal(pushed.status, 200);
  assert.equal(pushed.body.version, 2);
  assert.equal((await call('datasetsPushFiles', 'bob', `datasets/${id}/files`, { files: { 'd.txt': 'mine' } })).status, 403);
  assert.equal((await call('datasetsPushFiles', 'alice', `datasets/${id}/files`, { files: { '../x': 'out' } })).status, 400);

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
    ['workflowsReceipt', 'workflows/x/receipt'],
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
  assert.equal((await call('workflowsReceipt', 'alice', `workflows/${run}/receipt`)).status, 200);
  assert.equal((await call('workflowsReceipt', 'bob', `workflows/${run}/receipt`)).status, 404); // another organization
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
  assert.equal((await call('workflowsDelete', 'alice', `workflows/${slow.body.id}`)).status, 409); // still running
  assert.equal((await call('workflowsCancel', 'alice', `workflows/${slow.body.id}/cancel`)).status, 202);
  assert.equal((await call('workflowsDelete', null, `workflows/${run}`)).status, 401);
  assert.equal((await call('workflowsDelete', 'bob', `workflows/${run}`)).status, 404);
  for (const until = Date.now() + 60_000; ;) {
    const deleted = await call('workflowsDelete', 'alice', `workflows/${run}`);
    if (deleted.status === 200) break;
    assert.equal(deleted.status, 409, 'only while its cleanup has not finished');
    assert.ok(Date.now() < until, 'the finished run could be deleted within a minute');
    await new Promise((r) => setTimeout(r, 50));
  }
  assert.equal((await call('workflowsGet', 'alice', `workflows/${run}`)).status, 404);
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
  await eventually(
    async () => {
      const view = (await call('workflowsGet', 'bob', `workflows/${run}`)).body;
      return view.status === 'AwaitingApproval' && view.approvals !== undefined ? view : undefined;
    },
    60_000,
    'the run to wait for approval',
  );
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

test('schedule routes: real answers match the document', async () => {
  const reg = await call('datasetsRegister', 'alice', 'datasets', { name: 'scheduled', files: { 'a.txt': 'lorem\n' } });
  const workflow = `jobs:\n  - command: 'true'\n    volumes:\n      - {id: '${reg.body.id}', name: 'd', path: '/data/d'}\n`;
  // Once a year: no tick during the test.
  const created = await call('schedulesCreate', 'alice', 'schedules', { name: 'yearly', workflow, schedule: '0 0 0 1 1 *' });
  assert.equal(created.status, 201);
  const id = created.body.id as string;
  assert.equal((await call('schedulesCreate', 'alice', 'schedules', { name: 'bad', workflow, schedule: '* * *' })).status, 400);
  assert.equal((await call('schedulesCreate', 'bob', 'schedules', { name: 'not mine', workflow, schedule: '0 0 0 1 1 *' })).status, 403);
  assert.equal((await call('schedulesCreate', 'alice', 'schedules', { name: 'none', workflow, trigger: { datasetUpdated: '0'.repeat(32) } })).status, 404);
  assert.equal((await call('schedulesList', 'alice', 'schedules')).status, 200);
  assert.equal((await call('schedulesGet', 'alice', `schedules/${id}`)).status, 200);
  assert.equal((await call('schedulesGet', 'bob', `schedules/${id}`)).status, 404);
  assert.equal((await call('schedulesGet', 'bob', 'schedules/nope')).status, 400);
  assert.equal((await call('schedulesUpdate', 'alice', `schedules/${id}`, { enabled: false })).status, 200);
  assert.equal((await call('schedulesUpdate', 'bob', `schedules/${id}`, { enabled: true })).status, 404);
  assert.equal((await call('schedulesDelete', 'bob', `schedules/${id}`)).status, 404);
  assert.equal((await call('schedulesDelete', 'alice', `schedules/${id}`)).status, 204);
});

test('every registered route of the table was driven', () => {
  const missing = routeTable.filter((r) => registered.has(r.name) && ![...checked].some((c) => c.startsWith(`${r.name} `)));
  assert.deepEqual(
    missing.map((r) => r.name),
    [],
  );
});
