import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { eventually, fixtureApp, readJsonLines, startHost } from '../../../bench/support/host';
import { ScheduleStatusStore } from '../../../src/host/timer/scheduleStatusStore';

const YEARLY = '0 0 0 1 1 *';

function tempDirs(t: { after(fn: () => void): void }) {
  const dataDir = mkdtempSync(join(tmpdir(), 'lf-data-'));
  const outDir = mkdtempSync(join(tmpdir(), 'lf-out-'));
  t.after(() => {
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(outDir, { recursive: true, force: true });
  });
  return { dataDir, outDir };
}

test('a timer on a six-field NCRONTAB schedule fires every second; runOnStartup fires once at start', async (t) => {
  const { dataDir, outDir } = tempDirs(t);
  const host = await startHost({ entry: fixtureApp('timers'), dataDir, settings: { FIXTURE_OUT_DIR: outDir, TICKER_SCHEDULE: '* * * * * *' } });
  t.after(() => host.kill());

  const ticks = await eventually(
    () => {
      const lines = readJsonLines(join(outDir, 'ticker.jsonl'));
      return lines.length >= 2 ? lines : undefined;
    },
    20_000,
    'two ticks',
  );
  const [first, second] = ticks as [Record<string, unknown>, Record<string, unknown>];
  assert.equal(first['isPastDue'], false);
  assert.deepEqual(first['schedule'], { adjustForDST: true });
  const status = second['scheduleStatus'] as { last: string; next: string; lastUpdated: string };
  assert.ok(Date.parse(status.next) > Date.parse(status.last));
  assert.equal(new Date(status.last).getUTCMilliseconds(), 0);
  assert.equal(new Date(status.next).getUTCMilliseconds(), 0);

  const startup = readJsonLines(join(outDir, 'startup.jsonl'));
  assert.equal(startup.length, 1);
  assert.equal(startup[0]?.['isPastDue'], false);
});

test('a host that was down when a timer was due fires it once at start with isPastDue', async (t) => {
  const { dataDir, outDir } = tempDirs(t);
  const settings = { FIXTURE_OUT_DIR: outDir, TICKER_SCHEDULE: '* * * * * *' };
  const first = await startHost({ entry: fixtureApp('timers'), dataDir, settings });
  await eventually(() => readJsonLines(join(outDir, 'ticker.jsonl'))[0], 20_000, 'a tick');
  assert.equal(await first.stop(), 0);
  const before = readJsonLines(join(outDir, 'ticker.jsonl')).length;
  // The host recorded its next occurrence (at most a second away). Rather than wait for it
  // to pass, date the record an hour back, as a host down for an hour would have left it.
  const statuses = new ScheduleStatusStore(dataDir);
  const recorded = statuses.read('ticker');
  assert.ok(recorded !== undefined, 'the host recorded no schedule status');
  const hourBack = (d: Date) => new Date(d.getTime() - 3_600_000);
  const moved = { last: recorded.last && hourBack(recorded.last), next: hourBack(recorded.next), lastUpdated: hourBack(recorded.lastUpdated) };
  assert.equal(statuses.write('ticker', moved), undefined);

  // Restart with a yearly schedule: the only tick now is the one missed while down.
  const second = await startHost({ entry: fixtureApp('timers'), dataDir, settings: { ...settings, TICKER_SCHEDULE: YEARLY } });
  t.after(() => second.kill());
  const missed = await eventually(() => readJsonLines(join(outDir, 'ticker.jsonl'))[before], 20_000, 'the past-due tick');
  assert.equal(missed['isPastDue'], true);
  assert.equal(Date.parse((missed['scheduleStatus'] as { last: string }).last), moved.next.getTime(), 'it fires the occurrence that was missed');
  await second.stop();
  assert.equal(readJsonLines(join(outDir, 'ticker.jsonl')).length, before + 1);
});
