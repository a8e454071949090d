import type { ErrorDetail } from './errors';

/**
 * The one rule for a path inside a dataset or workspace: `/`-separated, relative, no empty,
 * `.` or `..` segment, no NUL, backslash or control character, bounded length. Storage
 * adapters apply it before touching anything and still check containment on disk.
 */
const MAX_PATH = 1024;
const MAX_SEGMENT = 255;

/** Why `path` is not an acceptable relative path, or undefined when it is. */
export function relativePathProblem(path: string): string | undefined {
  if (path.length === 0) return 'must not be empty';
  if (path.length > MAX_PATH) return `must be at most ${MAX_PATH} characters`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f\\]/.test(path)) return 'must not contain control characters or backslashes';
  if (path.startsWith('/')) return 'must be relative (no leading /)';
  for (const segment of path.split('/')) {
    if (segment === '' || segment === '.' || segment === '..') return "must not contain empty, '.' or '..' segments";
    if (segment.length > MAX_SEGMENT) return `segments must be at most ${MAX_SEGMENT} characters`;
  }
  return undefined;
}

/** Every bad path among the keys of an upload, each located as `files["<path>"]`. */
export function fileMapProblems(files: Readonly<Record<string, string>>, at = 'files'): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  const paths = Object.keys(files);
  const set = new Set(paths);
  for (const path of paths) {
    const problem = relativePathProblem(path);
    if (problem !== undefined) {
      problems.push({ path: `${at}[${JSON.stringify(path)}]`, message: `path ${problem}` });
      continue;
    }
    // A file cannot also be a directory of another file.
    const segments = path.split('/');
    for (let i = 1; i < segments.length; i++) {
      const parent = segments.slice(0, i).join('/');
      if (set.has(parent)) {
        problems.push({ path: `${at}[${JSON.stringify(path)}]`, message: `path is inside ${JSON.stringify(parent)}, which is a file` });
        break;
      }
    }
  }
  return problems;
}
