import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { promises as fs } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { Logger } from '../observability/logger';
import { createOnce } from '../fs/atomicFile';
import { BackupError, checkDestination, snapshot, writeManifest } from './backup';
import { readBody } from './http/readBody';
import { writeJsonError } from './http/jsonError';

/**
 * The operator's routes on the embedded host, under `/admin` (outside the app's `/api`):
 * `POST /admin/backup {"dir"}` takes a consistent copy of the data dir while the host runs.
 *
 * Who may call: only the host's operator, proven twice. The request must come over
 * loopback (the backup writes to a path on this machine, which no remote caller should
 * choose), and carry the admin key, `Authorization: Bearer <key>`, a random 256-bit key the
 * host keeps in `<data dir>/admin.key` (0600 inside the 0700 data dir). Reading that file
 * takes the same rights as copying the data dir by hand, so the key grants nothing its
 * holder could not already do; an application user's token grants nothing here.
 * `ledgerflow admin backup` reads the key from the data dir.
 */
export const ADMIN_PREFIX = '/admin';
export const ADMIN_KEY_FILE = 'admin.key';

export function loadOrCreateAdminKey(dataDir: string): string {
  return createOnce(join(dataDir, ADMIN_KEY_FILE), Buffer.from(`${randomBytes(32).toString('base64url')}\n`))
    .toString('utf8')
    .trim();
}

export interface AdminDeps {
  dataDir: string;
  key: string;
  logger: Logger;
  hostVersion: string;
  /** Stops new work and waits for the work in flight; resolves with `resume`. Throws when
   * the work in flight did not end in time (the host then runs on). */
  pause(): Promise<() => void>;
}

const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
const LOOPBACK = new Set(['127.0.0.1', '::1', '::ffff:127.0.0.1']);

export function adminHandler(deps: AdminDeps): (req: IncomingMessage, res: ServerResponse, url: URL) => Promise<void> {
  let running = false;
  return async (req, res, url) => {
    if (!LOOPBACK.has(req.socket.remoteAddress ?? '')) return writeJsonError(res, 403, 'forbidden', 'admin routes answer on loopback only');
    const given = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (given === undefined || !timingSafeEqual(digest(given), digest(deps.key))) return writeJsonError(res, 401, 'unauthorized', 'the admin key is required');
    if (url.pathname.toLowerCase() !== `${ADMIN_PREFIX}/backup` || req.method !== 'POST')
      return writeJsonError(res, 404, 'not_found', `no admin route ${req.method} ${url.pathname}`);
    if (running) return writeJsonError(res, 409, 'conflict', 'a backup is already running');
    running = true;
    try {
      let dir: unknown;
      try {
        dir = (JSON.parse((await readBody(req, 64 * 1024)).toString('utf8')) as { dir?: unknown }).dir;
      } catch {
        dir = undefined;
      }
      if (typeof dir !== 'string') return writeJsonError(res, 400, 'validation_failed', 'body must be {"dir": "<absolute path>"}');
      const dest = await checkDestination(deps.dataDir, dir);
      const started = Date.now();
      const resume = await deps.pause();
      let copied;
      try {
        copied = await snapshot(deps.dataDir, dest);
      } catch (err) {
        await fs.rm(dest, { recursive: true, force: true }).catch(() => undefined);
        throw err;
      } finally {
        resume();
      }
      const pausedMs = Date.now() - started;
      const manifest = await writeManifest(dest, {
        createdAt: new Date(started).toISOString(),
        source: deps.dataDir,
        hostVersion: deps.hostVersion,
        node: process.version,
        databases: copied.databases,
        pausedMs,
      });
      deps.logger.info({ dir: dest, files: manifest.files.length, databases: copied.databases, ledgerHeight: manifest.ledgerHeight, pausedMs }, 'backup taken');
      const body = JSON.stringify({
        dir: dest,
        createdAt: manifest.createdAt,
        files: manifest.files.length,
        databases: manifest.databases,
        ledgerHeight: manifest.ledgerHeight,
        pausedMs,
      });
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    } catch (err) {
      if (err instanceof BackupError) return writeJsonError(res, 400, 'validation_failed', err.message);
      deps.logger.error({ err }, 'backup failed');
      writeJsonError(res, 503, 'unavailable', `backup failed: ${err instanceof Error ? err.message : String(err)}`);
    } finally {
      running = false;
    }
  };
}
