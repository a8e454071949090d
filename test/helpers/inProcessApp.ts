import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fixtureApp } from '../../bench/support/host';
import { loadApp, type LoadedApp } from '../../src/host/app/loadApp';
import type { HostExtension } from '../../src/host/extension';
import { startHost, type RunningHost } from '../../src/host/host';
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

/** The host started in this process on an app whose entry point is `main`, in a new app dir
 * and a new data dir; `stop` stops it and removes both. */
export async function startInProcessHost(
  main: string,
  options: {
    /** The app's host.json, if not the default. */
    hostJson?: unknown;
    /** The host's environment, given the data dir (default: PORT 0 and that data dir). */
    env?: (dataDir: string) => NodeJS.ProcessEnv;
    extensions?: HostExtension[];
  } = {},
): Promise<{ host: RunningHost; dataDir: string; stop(): Promise<void> }> {
  const appDir = mkdtempSync(join(tmpdir(), 'lf-app-'));
  const dataDir = mkdtempSync(join(tmpdir(), 'lf-data-'));
  const remove = (): void => {
    rmSync(appDir, { recursive: true, force: true });
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    writeFileSync(join(appDir, 'package.json'), JSON.stringify({ main }));
    if (options.hostJson !== undefined) writeFileSync(join(appDir, 'host.json'), JSON.stringify(options.hostJson));
    const host = await startHost({
      appDir,
      env: options.env?.(dataDir) ?? { PORT: '0', LEDGERFLOW_DATA_DIR: dataDir },
      ...(options.extensions !== undefined && { extensions: options.extensions }),
      logger: createLogger({ level: 'silent' }),
    });
    return {
      host,
      dataDir,
      async stop() {
        await host.stop();
        remove();
      },
    };
  } catch (err) {
    remove();
    throw err;
  }
}
