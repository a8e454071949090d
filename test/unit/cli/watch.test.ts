import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ApiClient } from '../../../src/cli/client';
import type { Output } from '../../../src/cli/output';
import { progressTable, watchWorkflow } from '../../../src/cli/watch';
import type { WorkflowView } from '../../../src/api/schemas';

/** --watch against a server that answers a scripted sequence of run states. */
const T0 = Date.parse('2026-01-01T00:00:00.000Z');
const at = (s: number) => new Date(T0 + s * 1000).toISOString();
const job = (index: number, name: string, status: string, start?: number, end?: number, exitCode: number | null = null) => ({
  index,
  name,
  status,
  exitCode,
  startedAt: start === undefined ? null : at(start),
  endedAt: end === undefined ? null : at(end),
  attempts: start === undefined ? 0 : 1,
});
const view = (status: string, jobs: ReturnType<typeof job>[]): WorkflowView =>
  ({ id: 'wf1', status, createdAt: at(0), updatedAt: at(9), jobs }) as WorkflowView;

const script: WorkflowView[] = [
  view('Pending', [job(1, 'job-1', 'Pending'), job(2, 'count', 'Pending')]),
  view('Running', [job(1, 'job-1', 'Running', 1), job(2, 'count', 'Pending')]),
  view('Running', [job(1, 'job-1', 'Running', 1), job(2, 'count', 'Pending')]),
  view('Running', [job(1, 'job-1', 'Succeeded', 1, 2, 0), job(2, 'count', 'Running', 2)]),
  view('Failed', [job(1, 'job-1', 'Succeeded', 1, 2, 0), job(2, 'count', 'Failed', 2, 14, 3)]),
];
let server: Server;
let url = '';
let calls = 0;
before(async () => {
  server = createServer((req, res) => {
    assert.equal(req.headers.authorization, 'Bearer t');
    const body = script[Math.min(calls++, script.length - 1)];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api`;
});
after(() => server.close());

function capture(isTTY: boolean): Output & { text: string } {
  const o = { format: 'table' as const, structured: false, isTTY, text: '', out: (t: string) => void (o.text += t), err: () => undefined };
  return o;
}

test('plain output: one line per change, the final view returned', async () => {
  calls = 0;
  const out = capture(false);
  const final = await watchWorkflow(new ApiClient(url, 't'), 'wf1', out, { intervalMs: 1, now: () => T0 + 20_000 });
  assert.equal(final.status, 'Failed');
  const lines = out.text
    .trim()
    .split('\n')
    .map((l) => l.slice(9)); // without the time stamp
  assert.deepEqual(lines, [
    'job 1 job-1: Pending',
    'job 2 count: Pending',
    'workflow wf1: Pending',
    'job 1 job-1: Running',
    'workflow wf1: Running',
    'job 1 job-1: Succeeded after 1.0s (exit 0)',
    'job 2 count: Running',
    'job 2 count: Failed after 12s (exit 3)',
    'workflow wf1: Failed',
  ]);
});

test('terminal output: the table is redrawn in place', async () => {
  calls = 0;
  const out = capture(true);
  await watchWorkflow(new ApiClient(url, 't'), 'wf1', out, { intervalMs: 1, now: () => T0 + 20_000 });
  const frames = out.text.split('\x1b[4A\r\x1b[J'); // 1 status line + header + 2 jobs
  assert.equal(frames.length, script.length);
  assert.match(frames[frames.length - 1] ?? '', /count +Failed +12s +3/);
});

test('progress table: running jobs count up to now', () => {
  const text = progressTable(script[3] as WorkflowView, T0 + 65_000);
  assert.match(text, /^workflow wf1: Running\n# {2}JOB +STATE +TIME +EXIT/);
  assert.match(text, /2 {2}count +Running +1m03s/);
});
