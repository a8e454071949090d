import { readFileSync, realpathSync, statSync } from 'node:fs';
import { extname, join, resolve, sep } from 'node:path';

/**
 * The web console's static files (built by `npm run build` into dist/web), served by
 * functions/console.ts at `/` beside the API. Only what the build wrote is served: a path
 * with `..`, `.`, a backslash or a NUL segment is refused before the file system is asked,
 * and whatever is read must resolve (symlinks too) inside the build's folder.
 */

/** Where the console's build is, from dist/src/app/console. */
export const CONSOLE_ROOT = resolve(__dirname, '..', '..', '..', 'web');

/**
 * The console's Functions route: every path but the API's, the host's own (`admin`,
 * `runtime`: Azure lets a catch-all shadow `runtime/webhooks`, azure-functions-host#6990) and
 * App Service authentication's `.auth`. The constraint keeps `/api/...` answers (404, 405)
 * what the API functions make them, on Azure and on the embedded host.
 */
export const CONSOLE_ROUTE = '{*path:regex(^(?!(api|admin|runtime|\\.auth)\\b).*$)}';

/** No inline script or style, nothing from another host: what the build emits is enough. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

export interface StaticAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Buffer;
}

const SECURITY_HEADERS = {
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
};

function text(status: number, message: string): StaticAnswer {
  return { status, headers: { ...SECURITY_HEADERS, 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' }, body: Buffer.from(message) };
}

/** The path's segments when it names something inside the build, else undefined. */
export function safeSegments(path: string): string[] | undefined {
  const segments = path.split('/').filter((s) => s !== '');
  const bad = segments.some((s) => s === '.' || s === '..' || s.includes('\\') || s.includes('\u0000') || s.includes(':'));
  return bad ? undefined : segments;
}

function fileUnder(root: string, segments: readonly string[]): string | undefined {
  const candidate = join(root, ...segments);
  try {
    const real = realpathSync(candidate);
    if (real !== root && !real.startsWith(root + sep)) return undefined;
    return statSync(real).isFile() ? real : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The answer for `path` (the route's catch-all, already URL-decoded by the host). Hashed
 * build assets (`assets/`) are cached for a year; index.html is revalidated every time, and
 * also answers paths without an extension (the console's own pages, e.g. `/runs`).
 */
export function consoleAnswer(path: string, root: string = CONSOLE_ROOT): StaticAnswer {
  const segments = safeSegments(path);
  if (segments === undefined) return text(400, 'bad path');
  let realRoot: string;
  try {
    realRoot = realpathSync(root);
  } catch {
    return text(503, 'the console is not built: run npm run build');
  }
  const direct = segments.length === 0 ? undefined : fileUnder(realRoot, segments);
  const last = segments[segments.length - 1] ?? '';
  const file = direct ?? (extname(last) === '' ? fileUnder(realRoot, ['index.html']) : undefined);
  if (file === undefined) return segments.length === 0 ? text(503, 'the console is not built: run npm run build') : text(404, 'not found');
  const hashed = direct !== undefined && segments[0] === 'assets';
  return {
    status: 200,
    headers: {
      ...SECURITY_HEADERS,
      'content-type': CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream',
      'cache-control': hashed ? 'public, max-age=31536000, immutable' : 'no-cache',
    },
    body: readFileSync(file),
  };
}
