import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fixtureApp } from '../../bench/support/host';
import { loadApp, type LoadedApp } from '../../src/host/app/loadApp';
import { createLogger, type Logger } from '../../src/observability/logger';

/** A fixture app loaded into this process as the host loads one, with its module (what the
 * test reads from and steers), and the means to unload it and remove its app dir. */
export async function loadFixtureApp<F>(name: string, logger: Logger): Promise<{ app: LoadedApp; fixture: F; close(): Promise<void> }> {
  const appDir = mkdtempSync(join(tmpdir(), `lf-app-${name}-`));
  writeFileSync(join(appDir, 'package.json'), JSON.stringify({ main: fixtureApp(name) }));
  const app = await loadApp(appDir, {}, logger);
  return {
    app,
    fixture: require(fixtureApp(name)) as F,
    async close() {
      await app.close();
      rmSync(appDir, { recursive: true, force: true });
    },
  };
}

/** A logger whose lines are parsed into `lines`, or, without it, one that drops everything. */
export function testLogger(lines?: Record<string, unknown>[]): Logger {
  if (lines === undefined) return createLogger({ level: 'fatal', destination: new Writable({ write: (_c, _e, done) => done() }) });
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString('utf8').split('\n')) if (line !== '') lines.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  return createLogger({ level: 'info', destination });
}
