import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DatasetsApi, SANDBOXES, hostileSettings, jobLog, oneJob, runWorkflow } from './harness';

/**
 * Critical item 1 and medium item 9 of issue 12, and the job's view of its own stdout: the
 * job must never be host root. It tries to write host kernel settings, to keep
 * capabilities, to plant a setuid-root program in its workspace, and to learn host paths
 * from /proc/1/fd. Run in both sandboxes, as root (as CI runs).
 */
const PRINTK = '/proc/sys/kernel/printk_ratelimit_burst';

for (const sandbox of SANDBOXES) {
  describe(`a hostile job in the ${sandbox} sandbox`, () => {
    let api: DatasetsApi;
    let dataDir: string;
    before(async () => {
      // An existing data dir that a careless operator left world-readable.
      dataDir = mkdtempSync(join(tmpdir(), 'lf-sec-root-'));
      chmodSync(dataDir, 0o755);
      mkdirSync(join(dataDir, 'runs'), { mode: 0o755 });
      chmodSync(join(dataDir, 'runs'), 0o755);
      api = await DatasetsApi.start(hostileSettings({ LOCAL_SANDBOX: sandbox }), { dataDir });
    });
    after(async () => {
      await api?.host.kill();
      rmSync(dataDir, { recursive: true, force: true });
    });

    test('cannot write host kernel settings, holds no capability and cannot gain any', async () => {
      const before = readFileSync(PRINTK, 'utf8');
      const next = String(Number(before.trim()) + 1);
      const run = await runWorkflow(
        api,
        'alice',
        oneJob(
          `echo ${next} > ${PRINTK} && echo wrote-printk; ` +
            `( : >> /proc/sys/kernel/core_pattern ) 2>/dev/null && echo opened-core-pattern; ` +
            `( echo t > /proc/sysrq-trigger ) 2>/dev/null && echo wrote-sysrq; ` +
            `grep -E '^(CapEff|CapPrm|CapBnd|NoNewPrivs)' /proc/self/status; echo done`,
        ),
      );
      const after = readFileSync(PRINTK, 'utf8');
      if (after !== before) writeFileSync(PRINTK, before);
      assert.equal(after, before, 'the job changed a host kernel setting');
      const log = await jobLog(api, 'alice', run.id);
      assert.match(log, /done/);
      assert.doesNotMatch(log, /wrote-printk|opened-core-pattern|wrote-sysrq/);
      assert.match(log, /CapEff:\s+0+\n/);
      assert.match(log, /NoNewPrivs:\s+1/);
    });

    test('its files on the host belong to an unprivileged user, and a setuid copy is not setuid root', async () => {
      const run = await runWorkflow(api, 'alice', oneJob('cp /usr/bin/id s && chmod 4755 s; echo made > out.txt; ls -ln s'));
      assert.equal(run.status, 'Succeeded', JSON.stringify(run.view));
      const workspace = join(dataDir, 'runs', run.id, 'workspace');
      const out = statSync(join(workspace, 'out.txt'));
      assert.notEqual(out.uid, 0, 'the job wrote a file as host root');
      const planted = statSync(join(workspace, 's'));
      assert.ok(planted.uid !== 0 || (planted.mode & 0o4000) === 0, 'a setuid-root program was planted on the host');
      const health = await api.call(null, 'GET', '/health');
      assert.equal(health.body.compute.jobUser.mode, 'dedicated');
      assert.equal(health.body.compute.jobUser.uid, out.uid);
    });

    test('the data dir and its children are 0700, even when they existed before', () => {
      assert.equal(statSync(dataDir).mode & 0o777, 0o700);
      assert.equal(statSync(join(dataDir, 'runs')).mode & 0o777, 0o700);
    });

    test('the workspace is mounted nosuid,nodev inside the sandbox', async () => {
      const run = await runWorkflow(api, 'alice', oneJob('grep " /workspace " /proc/self/mounts'));
      const log = await jobLog(api, 'alice', run.id);
      assert.match(log, /nosuid/);
      assert.match(log, /nodev/);
    });

    test('its stdout is not a host path in /proc/1/fd', async () => {
      const run = await runWorkflow(api, 'alice', oneJob('ls -l /proc/1/fd/ /proc/self/fd/'));
      const log = await jobLog(api, 'alice', run.id);
      assert.match(log, /->/);
      assert.ok(!log.includes(dataDir), `the job sees host paths:\n${log}`);
    });
  });
}
