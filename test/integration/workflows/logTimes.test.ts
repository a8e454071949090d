import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually } from '../../../bench/support/host';
import { workflowView } from '../../../src/api/schemas';
import { parseRfc3339Nanos } from '../../../src/core/logTimes';
import { LOG_INDEX } from '../../../src/adapters/compute/local/supervisor';
import { DatasetsApi } from '../datasets/client';

/**
 * `?since=` and `?timestamps=` of the logs route, through one embedded host with the real
 * sandbox and supervisor: the times come from the supervisor's log index. No timed
 * assertion: the job waits for a file the test writes once the index covers its first lines,
 * so the later lines are in a later chunk whatever the machine's speed. Then hostile jobs:
 * output too big, with no newline, in millions of tiny lines, binary, or shaped like index
 * entries, against a log capped at 1 MiB.
 */
const LOG_CAP = 1024 * 1024;
let api: DatasetsApi;

before(async () => {
  api = await DatasetsApi.start({ COMPUTE: 'local', WORKFLOW_STATUS_POLL_SECONDS: '2', LOCAL_JOB_LOG_BYTES: String(LOG_CAP) });
});
after(async () => {
  await api?.host.kill();
});

const FINISHED = ['Succeeded', 'Failed', 'Canceled', 'Rejected'];
const spec = (command: string) => `jobs:\n  - command: '${command}'\n    name: work\n`;
const jobDir = (id: string) => join(api.host.dataDir, 'runs', id, 'jobs', 'work-1');
const logs = (id: string, query = '', headers: Record<string, string> = {}) =>
  api.call('alice', 'GET', `/workflows/${id}/jobs/work/logs${query}`, undefined, headers);

async function submit(command: string): Promise<string> {
  const r = await api.call('alice', 'POST', '/workflows', { workflow: spec(command) });
  assert.equal(r.status, 202, r.text);
  return r.body.id as string;
}
async function finished(id: string) {
  return eventually(
    async () => {
      const v = workflowView.parse((await api.call('alice', 'GET', `/workflows/${id}`)).body);
      return FINISHED.includes(v.status) ? v : undefined;
    },
    120_000,
    `workflow ${id} to finish`,
  );
}

/** `<time> <line>` lines of a timestamps answer, with the times parsed. */
function timed(text: string): { time: bigint; line: string }[] {
  return text
    .split('\n')
    .slice(0, -1)
    .map((l) => {
      const space = l.indexOf(' ');
      assert.match(l.slice(0, space), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{9}Z$/);
      const time = parseRfc3339Nanos(l.slice(0, space));
      assert.ok(time !== undefined, l);
      return { time, line: l.slice(space + 1) };
    });
}

test('logs: timestamps prefix each line with its time in order; since returns the later lines only', async () => {
  const id = await submit('echo early 1; echo early 2; while [ ! -e go ]; do sleep 0.05; done; echo late 1; echo late 2');
  const dir = jobDir(id);
  // Once a sample covers the early lines, they have their time: let the job go on.
  const covered = () => existsSync(join(dir, 'log.index')) && Number(readFileSync(join(dir, 'log.index'), 'latin1').split('\n').at(-2)?.split(' ')[0]) >= 16;
  await eventually(() => covered() || undefined, 60_000, 'the index to cover the early lines');
  // (Until the orchestration has recorded the job's start, the route answers 404.)
  const running = await eventually(async () => {
    const r = await logs(id, '?timestamps=true');
    return r.status === 200 ? timed(r.text) : undefined;
  });
  assert.deepEqual(
    running.map((l) => l.line),
    ['early 1', 'early 2'],
  );
  writeFileSync(join(api.host.dataDir, 'runs', id, 'workspace', 'go'), '', { mode: 0o644 });
  const view = await finished(id);
  assert.equal(view.status, 'Succeeded');

  const all = await logs(id, '?timestamps=true');
  assert.equal(all.status, 200, all.text);
  assert.match(all.text, /^\d{4}-/);
  const lines = timed(all.text);
  assert.deepEqual(
    lines.map((l) => l.line),
    ['early 1', 'early 2', 'late 1', 'late 2'],
  );
  // The early lines keep the time they were served with while the job ran.
  assert.deepEqual(lines.slice(0, 2), running);
  for (let i = 1; i < lines.length; i += 1) assert.ok(lines[i]!.time >= lines[i - 1]!.time);
  assert.ok(lines[2]!.time > lines[1]!.time, 'the late lines are in a later chunk');
  const job = view.jobs[0]!;
  assert.ok(lines[0]!.time >= BigInt(Date.parse(job.startedAt!)) * 1_000_000n);
  assert.ok(lines[3]!.time <= (BigInt(Date.parse(job.endedAt!)) + 1n) * 1_000_000n);

  const lateTime = all.text.split('\n')[2]!.split(' ')[0]!;
  const since = await logs(id, `?since=${encodeURIComponent(lateTime)}`);
  assert.equal(since.status, 200, since.text);
  assert.equal(since.text, 'late 1\nlate 2\n');
  assert.equal((await logs(id, '?since=1d')).text, 'early 1\nearly 2\nlate 1\nlate 2\n');
  assert.equal((await logs(id, '?since=2099-01-01T00:00:00Z')).text, '');
  assert.deepEqual(
    timed((await logs(id, `?since=${encodeURIComponent(lateTime)}&timestamps=true&tail=1`)).text).map((l) => l.line),
    ['late 2'],
  );
  assert.equal((await logs(id, '?timestamps=false')).text, 'early 1\nearly 2\nlate 1\nlate 2\n');

  // The log itself is untouched: the plain answer is the file, and the ledger's hash with it.
  assert.equal((await logs(id)).text, readFileSync(join(dir, 'log'), 'utf8'));

  const ranged = await logs(id, '?timestamps=true', { range: 'bytes=3-' });
  assert.equal(ranged.status, 400);
  assert.equal(ranged.body.error.code, 'bad_request');
  assert.match(ranged.body.error.message, /Range cannot be combined with since or timestamps/);
  const bad = await logs(id, '?since=5x&timestamps=maybe');
  assert.equal(bad.status, 400);
  assert.deepEqual(bad.body.error.details.map((d: { path: string }) => d.path).sort(), ['since', 'timestamps']);
  assert.equal((await api.call('bob', 'GET', `/workflows/${id}/jobs/work/logs?timestamps=true`)).status, 404);
});

test('logs: a hostile job cannot grow the log past its cap or the index past its bound, nor forge an entry', async () => {
  const entryBound = LOG_INDEX.maxEntries * 40;
  for (const command of [
    // 10 MB without a newline, then 3 million tiny lines, then binary and control bytes, and
    // lines shaped like index entries.
    'head -c 10000000 /dev/zero | tr "\\\\0" x; yes | head -n 3000000; printf "\\\\0\\\\033[2J\\\\r\\\\n"; echo "999999999 1.000000000"',
    'i=0; while [ $i -lt 200 ]; do echo "1 99999999999.000000000"; printf "%s" "$i"; i=$((i+1)); done; yes abcdefghijklmnop | head -c 5000000',
  ]) {
    const id = await submit(command);
    await finished(id);
    const dir = jobDir(id);
    const size = statSync(join(dir, 'log')).size;
    assert.ok(size <= LOG_CAP + 200, `log of ${size} bytes`);
    assert.match(readFileSync(join(dir, 'log'), 'utf8'), /more bytes of output dropped: the log is capped at 1048576 bytes/);
    const index = existsSync(join(dir, 'log.index')) ? readFileSync(join(dir, 'log.index'), 'latin1') : '';
    assert.ok(index.length <= entryBound);
    let previous = 0;
    for (const entry of index.split('\n').slice(0, -1)) {
      const [offset, time] = entry.split(' ');
      assert.match(entry, /^\d+ \d+\.\d{9}$/);
      assert.ok(Number(offset) >= previous && Number(offset) <= size, entry);
      assert.ok(Number(time) > 1_700_000_000 && Number(time) < 4_000_000_000, entry);
      previous = Number(offset);
    }
    const stamped = await logs(id, '?timestamps=true');
    assert.equal(stamped.status, 200);
    for (const line of timed(stamped.text)) assert.ok(Buffer.byteLength(line.line) <= 16 * 1024 * 3, 'a piece of a long line');
    assert.equal((await logs(id, '?timestamps=true&tail=2')).text.split('\n').length, 3);
  }
});
