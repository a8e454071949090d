import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LedgerflowError, type ErrorDetail } from '../../../src/core/errors';
import { datasetIdsOf, parseWorkflowSpec } from '../../../src/core/workflow/spec';

const fixture = (name: string) => readFileSync(join(__dirname, '..', '..', '..', '..', 'test', 'fixtures', 'thesis', name), 'utf8');

function detailsOf(source: string): ErrorDetail[] {
  try {
    parseWorkflowSpec(source);
  } catch (err) {
    assert.ok(err instanceof LedgerflowError, `expected a LedgerflowError, got ${String(err)}`);
    assert.equal(err.code, 'validation_failed');
    return [...(err.details ?? [])];
  }
  assert.fail('expected the spec to be rejected');
}

test('thesis listing 2.1 (JupyterFlow, plain string jobs) parses', () => {
  const spec = parseWorkflowSpec(fixture('listing-2.1-jupyterflow.yaml'));
  assert.deepEqual(
    spec.jobs.map((j) => [j.index, j.name, j.command]),
    [
      [1, 'job-1', 'bash hello.sh world'],
      [2, 'job-2', 'bash hello.sh bob'],
      [3, 'job-3', 'bash hello.sh foo'],
      [4, 'job-4', 'ls'],
      [5, 'job-5', "echo 'jupyterflow is the best!'"],
    ],
  );
  assert.deepEqual(spec.edges, [
    { from: 1, to: 4 },
    { from: 2, to: 4 },
    { from: 3, to: 4 },
    { from: 4, to: 5 },
  ]);
  assert.deepEqual(spec.jobs[0], { index: 1, name: 'job-1', command: 'bash hello.sh world', env: {}, volumes: [], resources: {}, retries: 0 });
});

test('thesis listing 4.7 reports its placeholder id, name and path', () => {
  assert.deepEqual(detailsOf(fixture('listing-4.7-volumes-placeholder.yaml')), [
    { path: 'jobs[1].volumes[0].id', message: 'must not be empty' },
    { path: 'jobs[1].volumes[0].name', message: 'must not be empty' },
    { path: 'jobs[1].volumes[0].path', message: 'must not be empty' },
  ]);
});

test('thesis listing 4.7 with its placeholders filled in parses', () => {
  const source = fixture('listing-4.7-volumes-placeholder.yaml')
    .replace("id: ''", `id: '${'ab12'.repeat(8)}'`)
    .replace("name: ''", "name: 'uis'")
    .replace("path: ''", "path: '/home/jovyan/uis'");
  const spec = parseWorkflowSpec(source);
  assert.deepEqual(spec.jobs[1]!.volumes, [{ id: 'ab12'.repeat(8), name: 'uis', path: '/home/jovyan/uis' }]);
  assert.deepEqual(spec.edges, [
    { from: 1, to: 2 },
    { from: 1, to: 3 },
  ]);
});

test('thesis listing 5.1: ids wrapped across lines lose their whitespace', () => {
  const spec = parseWorkflowSpec(fixture('listing-5.1-linear-local.yaml'));
  assert.deepEqual(spec.jobs[1]!.volumes, [{ id: '6de22e830ce4661cbeb6b9b2167c3f206dd946eb89beecd2f20bb17e85e64995', name: 'uis', path: '/home/jovyan/uis' }]);
  assert.deepEqual(spec.jobs[2]!.volumes, [{ id: 'e8a019a72cd8da522f620ab5561f5ada0143ea136ef71d8e601f6007c9386269', name: 'uio', path: '/home/jovyan/uio' }]);
  assert.equal(spec.jobs[1]!.command, 'ls /home/jovyan/uis > result.txt');
  assert.deepEqual(spec.edges, [
    { from: 1, to: 2 },
    { from: 2, to: 3 },
  ]);
  for (const id of datasetIdsOf(spec)) assert.match(id, /^[0-9a-f]{64}$/);
});

test('thesis listing 5.2: three datasets, fan-out and fan-in', () => {
  const spec = parseWorkflowSpec(fixture('listing-5.2-complex-azure.yaml'));
  assert.deepEqual(datasetIdsOf(spec), [
    '36b0c4d057e1bf9c0915e66330d18299d0f08c0c0f0340847cc879b3fbf73b4d',
    'c12e28fb1d8c4bb243d5e7622afd90fde92ddb53971be384b92c33a464c80451',
    '3011ffd02613bb0971fb14b3bcbfea54ab1141afcd78c06ca18337f29740abbc',
  ]);
  assert.deepEqual(spec.edges.length, 6);
  assert.equal(spec.jobs[4]!.command, 'python final-result.py');
});

test('a wrapped id indented deeper than its key (plain YAML folding) gives the same id', () => {
  const id = `6${'de22'.repeat(7)}e8a`;
  const source = `jobs:\n- command: x\n  volumes:\n    - id: '6\n         ${id.slice(1)} '\n      name: u\n      path: /data/u\n`;
  assert.equal(parseWorkflowSpec(source).jobs[0]!.volumes[0]!.id, id);
});

test('additions: names in dags, chains, image, env, resources, timeout, retries', () => {
  const spec = parseWorkflowSpec(`
image: python:3.12
timeout: 1h
jobs:
  - name: fetch
    command: python fetch.py
    env: {MODE: fast, LEVEL: 3, DEBUG: true}
    resources: {cpu: 500m, memory: 256Mi}
    timeout: 90s
    retries: 2
  - {name: train, command: python train.py, image: 'python:3.11', timeout: 5m}
  - python report.py
  - echo independent
dags:
  - fetch >> train >> 3
`);
  assert.equal(spec.image, 'python:3.12');
  assert.equal(spec.timeoutSeconds, 3600);
  assert.deepEqual(spec.jobs[0], {
    index: 1,
    name: 'fetch',
    command: 'python fetch.py',
    env: { MODE: 'fast', LEVEL: '3', DEBUG: 'true' },
    volumes: [],
    resources: { cpu: '500m', memory: '256Mi' },
    timeoutSeconds: 90,
    retries: 2,
  });
  assert.equal(spec.jobs[1]!.image, 'python:3.11');
  assert.equal(spec.jobs[1]!.timeoutSeconds, 300);
  assert.equal(spec.jobs[2]!.name, 'job-3');
  assert.deepEqual(spec.edges, [
    { from: 1, to: 2 },
    { from: 2, to: 3 },
  ]);
});

test("a dataset id is 32 lower-case hex characters (ours) or 64 (the thesis's); anything else is reported", () => {
  const volume = (id: string) => `jobs:\n  - command: x\n    volumes: [{id: '${id}', name: d, path: /data/d}]\n`;
  for (const id of ['0f'.repeat(16), '0f'.repeat(32)]) assert.equal(parseWorkflowSpec(volume(id)).jobs[0]!.volumes[0]!.id, id);
  for (const id of ['abc123', '0F'.repeat(16), `${'0f'.repeat(16)}0`, 'dataset-uis', '../'.repeat(11)]) {
    assert.deepEqual(detailsOf(volume(id)), [{ path: 'jobs[0].volumes[0].id', message: 'must be a dataset id (32 lower-case hex characters, or 64)' }], id);
  }
});

test('dags may be absent: every job runs in parallel', () => {
  const spec = parseWorkflowSpec('jobs:\n  - echo a\n  - echo b\n');
  assert.deepEqual(spec.edges, []);
  assert.deepEqual(parseWorkflowSpec('jobs: [echo a]\ndags:\n').edges, []);
});

test('every problem is reported at once, each with its path', () => {
  const details = detailsOf(`
colour: blue
jobs:
  - command: ls
    volumes:
      - {id: '${'a'.repeat(32)}', name: a, path: relative/path}
      - {id: '${'b'.repeat(32)}', name: b, path: /data/x/../y}
      - {id: '${'c'.repeat(32)}', name: c, path: /}
      - {id: '${'d'.repeat(32)}', name: d, path: /etc/passwd}
      - {id: '${'e'.repeat(32)}', name: e, path: /proc}
  - command: cat
    volumes:
      - {id: '${'f'.repeat(32)}', name: f, path: /data/a}
      - {id: '${'1'.repeat(32)}', name: g, path: /data/a/b}
      - {id: '${'2'.repeat(32)}', name: h, path: /data/c/}
      - {id: '${'3'.repeat(32)}', name: i, path: /data/c, extra: 1}
  - {name: job-1, command: x}
  - {command: '', retries: -1, timeout: 10 minutes, resources: {cpu: lots, gpu: 1}}
  - 42
dags:
  - 1 >> 9
  - 2
  - 1 >>
  - nobody >> 2
`);
  assert.deepEqual(details, [
    { path: 'colour', message: 'unknown key' },
    { path: 'jobs[0].volumes[0].path', message: 'must be an absolute path' },
    { path: 'jobs[0].volumes[1].path', message: 'must not contain ..' },
    { path: 'jobs[0].volumes[2].path', message: 'must not be /' },
    { path: 'jobs[0].volumes[3].path', message: 'must not be at or under /etc' },
    { path: 'jobs[0].volumes[4].path', message: 'must not be at or under /proc' },
    { path: 'jobs[1].volumes[2].path', message: 'must be normalised (/data/c)' },
    { path: 'jobs[1].volumes[3].extra', message: 'unknown key' },
    { path: 'jobs[1].volumes[1].path', message: 'overlaps jobs[1].volumes[0].path' },
    { path: 'jobs[3].command', message: 'must not be empty' },
    { path: 'jobs[3].resources.cpu', message: 'must be a quantity like 500m or 2' },
    { path: 'jobs[3].resources.gpu', message: 'unknown key' },
    { path: 'jobs[3].timeout', message: 'must be seconds or a duration like 30s, 5m, 2h, 1d (at most 7d)' },
    { path: 'jobs[3].retries', message: 'must be at least 0' },
    { path: 'jobs[4]', message: 'must be a command string or a mapping with a command' },
    { path: 'jobs[2].name', message: 'duplicate job name job-1 (also jobs[0])' },
    { path: 'dags[0]', message: 'unknown job 9 (jobs are 1..5 or their names)' },
    { path: 'dags[1]', message: 'must be a dependency like `1 >> 2`' },
    { path: 'dags[2]', message: 'must be a dependency like `1 >> 2` (or a chain `1 >> 2 >> 3`)' },
    { path: 'dags[3]', message: 'unknown job nobody (jobs are 1..5 or their names)' },
  ]);
});

test('a cycle is named by its jobs', () => {
  assert.deepEqual(detailsOf('jobs: [a, b, c]\ndags:\n  - 1 >> 2\n  - 1 >> 3\n  - 3 >> 1\n'), [{ path: 'dags', message: 'cycle: job-1 >> job-3 >> job-1' }]);
  assert.deepEqual(detailsOf('jobs: [{name: solo, command: x}]\ndags: [solo >> solo]\n'), [{ path: 'dags', message: 'cycle: solo >> solo' }]);
});

test('YAML syntax errors carry line and column', () => {
  const [detail, ...rest] = detailsOf('jobs:\n  - command: [unclosed\n  - ls\n');
  assert.equal(rest.length >= 0, true);
  assert.equal(detail!.path, '');
  assert.match(detail!.message, /^YAML syntax error at line \d+, column \d+: /);
  assert.match(detailsOf('jobs: [a]\njobs: [b]\n')[0]!.message, /line 2, column 1/);
});

test('not a workflow at all', () => {
  assert.deepEqual(detailsOf(''), [{ path: '', message: 'must be a mapping with `jobs` (and `dags`)' }]);
  assert.deepEqual(detailsOf('- ls'), [{ path: '', message: 'must be a mapping with `jobs` (and `dags`)' }]);
  assert.deepEqual(detailsOf('jobs: []'), [{ path: 'jobs', message: 'must be a list of at least one job' }]);
  assert.deepEqual(detailsOf('jobs: [ls]\nimage: ""\ntimeout: 0'), [
    { path: 'image', message: 'must not be empty' },
    { path: 'timeout', message: 'must be seconds or a duration like 30s, 5m, 2h, 1d (at most 7d)' },
  ]);
});

test('the thrown message summarises the problems', () => {
  assert.throws(() => parseWorkflowSpec('jobs: [{command: ls, nope: 1}]'), {
    name: 'LedgerflowError',
    message: 'invalid workflow spec: jobs[0].nope: unknown key',
  });
});
