/** The browser's stand-in for node:path's `posix.normalize`, the one path function the shared
 * core uses (mount-path rules); test/unit/console/pathShim.test.ts holds it to Node's. */
function normalize(path: string): string {
  if (path === '') return '.';
  const absolute = path.startsWith('/');
  const out: string[] = [];
  for (const part of path.split('/')) {
    if (part === '' || part === '.') continue;
    if (part !== '..') out.push(part);
    else if (out.length > 0 && out[out.length - 1] !== '..') out.pop();
    else if (!absolute) out.push('..');
  }
  let result = (absolute ? '/' : '') + out.join('/');
  if (result === '') result = absolute ? '/' : '.';
  if (path.endsWith('/') && result !== '/') result += '/';
  return result;
}

export const posix = { normalize };
