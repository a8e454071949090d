import { posix } from 'node:path';

/**
 * Mount-path rules shared by the spec parser and the compute backends (which check again, as
 * defence in depth, before they touch a file system). Paths relative to a dataset or a
 * workspace have their own one rule: src/core/relativePath.ts.
 */

/** System trees a dataset must never shadow, and the sandbox's own workspace. */
export const RESERVED_MOUNT_ROOTS = [
  '/bin',
  '/boot',
  '/dev',
  '/etc',
  '/lib',
  '/lib32',
  '/lib64',
  '/libx32',
  '/proc',
  '/run',
  '/sbin',
  '/sys',
  '/usr',
  '/workspace',
] as const;

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;

const within = (path: string, root: string) => path === root || path.startsWith(`${root}/`);

/** Why `path` is not acceptable as a mount path inside a job, or undefined when it is. */
export function mountPathProblem(path: string): string | undefined {
  if (path === '') return 'must not be empty';
  if (CONTROL.test(path)) return 'must not contain control characters';
  if (!path.startsWith('/')) return 'must be an absolute path';
  if (path.split('/').includes('..')) return 'must not contain ..';
  if (posix.normalize(path) !== path || (path.length > 1 && path.endsWith('/'))) {
    return `must be normalised (${posix.normalize(path).replace(/(.)\/$/, '$1')})`;
  }
  if (path === '/') return 'must not be /';
  const reserved = RESERVED_MOUNT_ROOTS.find((root) => within(path, root));
  if (reserved) return `must not be at or under ${reserved}`;
  return undefined;
}

/** True when one mount path is the other or lies under it. */
export function mountPathsOverlap(a: string, b: string): boolean {
  return within(a, b) || within(b, a);
}
