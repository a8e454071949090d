import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LeaseRecord } from '../../../src/core/model';
import { holdsLease, jobTimeLimit, LEASE_BACKSTOP_SECONDS, unleasedVolumes } from '../../../src/core/workflow/leases';
import { callbackToken, callbackTokenMatches } from '../../../src/core/workflow/callbackToken';
import { job, spec, alice } from '../orchestrators/fixtures';

const now = new Date('2026-01-01T12:00:00Z');
const lease = (datasetId: string, user: string, org: string, expiresAt = '2026-01-01T13:00:00Z'): LeaseRecord => ({
  datasetId,
  holder: { user, org, mspId: `${org}MSP` },
  takenAt: '2026-01-01T11:00:00Z',
  expiresAt,
});

test('a lease counts only for its holder and only until it expires', () => {
  assert.equal(holdsLease(lease('d', 'alice', 'uis'), alice, now), true);
  assert.equal(holdsLease(lease('d', 'bob', 'uis'), alice, now), false);
  assert.equal(holdsLease(lease('d', 'alice', 'uio'), alice, now), false);
  assert.equal(holdsLease(lease('d', 'alice', 'uis', '2026-01-01T12:00:00Z'), alice, now), false);
  assert.equal(holdsLease(undefined, alice, now), false);
});

test('every volume on a dataset the caller does not hold is named with its spec path', () => {
  const s = spec(
    [
      job(1, { volumes: [] }),
      job(2, { volumes: [{ id: 'uis-ds', name: 'uis', path: '/home/jovyan/uis' }] }),
      job(3, {
        volumes: [
          { id: 'uio-ds', name: 'uio', path: '/home/jovyan/uio' },
          { id: 'uib-ds', name: 'uib', path: '/home/jovyan/uib' },
        ],
      }),
    ],
    [],
  );
  const leases = new Map([
    ['uis-ds', lease('uis-ds', 'alice', 'uis')],
    ['uio-ds', lease('uio-ds', 'bob', 'uio')],
  ]);
  assert.deepEqual(
    unleasedVolumes(s, leases, alice, now).map((d) => d.path),
    ['jobs[2].volumes[0].id', 'jobs[2].volumes[1].id'],
  );
});

test('a callback token is bound to workflow, job and attempt, and checked in constant time', () => {
  const key = Buffer.alloc(32, 7);
  const token = callbackToken(key, 'wf-1', 'job-1', 1);
  assert.equal(callbackTokenMatches(key, 'wf-1', 'job-1', 1, token), true);
  assert.equal(callbackTokenMatches(key, 'wf-1', 'job-1', 2, token), false);
  assert.equal(callbackTokenMatches(key, 'wf-2', 'job-1', 1, token), false);
  assert.equal(callbackTokenMatches(Buffer.alloc(32, 8), 'wf-1', 'job-1', 1, token), false);
  assert.equal(callbackTokenMatches(key, 'wf-1', 'job-1', 1, ''), false);
});

test("a job's own time limit ends no later than its earliest lease plus the backstop, and at least 1 s", () => {
  const at = (s: number) => new Date(now.getTime() + s * 1000);
  assert.equal(jobTimeLimit(600, undefined, now), 600, 'no dataset, no lease: the timeout');
  assert.equal(jobTimeLimit(600, at(3600), now), 600, 'a lease beyond the timeout changes nothing');
  assert.equal(jobTimeLimit(600, at(30), now), 30 + LEASE_BACKSTOP_SECONDS);
  assert.equal(jobTimeLimit(600, at(29.2), now), 30 + LEASE_BACKSTOP_SECONDS, 'rounded up');
  assert.equal(jobTimeLimit(600, at(-60), now), 1);
});
