import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, sep } from 'node:path';
import { CliError, EXIT, usageError } from './exitCodes';

/**
 * Local files the CLI uploads: a dataset directory (`datasets register <dir>`) or the code
 * files of a workflow (`workflows run`). The API carries files as UTF-8 text keyed by a
 * relative `/`-separated path, so binary files are refused with their name.
 */

/** Below the host's default 10 MiB request limit, leaving room for JSON escaping. */
export const DEFAULT_MAX_UPLOAD_BYTES = 8 * 1024 * 1024;

const utf8 = new TextDecoder('utf-8', { fatal: true });

const toKey = (root: string, file: string) => relative(root, file).split(sep).join('/');

function readText(file: string, shownAs: string): string {
  try {
    return utf8.decode(readFileSync(file));
  } catch (err) {
    if (err instanceof TypeError) throw usageError(`${shownAs} is not UTF-8 text; the API uploads text files only`);
    throw usageError(`cannot read ${shownAs}: ${(err as Error).message}`);
  }
}

/** Regular files under `dir`, recursively; hidden entries (`.git`, `.env`) and symlinks are
 * skipped: they are rarely data and a symlink may point anywhere. */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => !e.name.startsWith('.'))
    .flatMap((e) => {
      const path = join(dir, e.name);
      if (e.isDirectory()) return walk(path);
      return e.isFile() ? [path] : [];
    })
    .sort();
}

function capped(files: Record<string, string>, maxBytes: number, what: string): Record<string, string> {
  const total = Object.values(files).reduce((n, text) => n + Buffer.byteLength(text), 0);
  if (total > maxBytes) {
    throw new CliError(EXIT.usage, 'too_large', `${what} holds ${total} bytes, more than the upload limit of ${maxBytes} bytes (--max-bytes)`);
  }
  return files;
}

/** Every file under `dir` as `{relative path: text}`. */
export function readDirectory(dir: string, maxBytes = DEFAULT_MAX_UPLOAD_BYTES): Record<string, string> {
  const root = resolve(dir);
  let isDir = false;
  try {
    isDir = statSync(root).isDirectory();
  } catch {
    // reported below
  }
  if (!isDir) throw usageError(`${dir} is not a directory`);
  const files = Object.fromEntries(walk(root).map((file) => [toKey(root, file), readText(file, toKey(root, file))]));
  return capped(files, maxBytes, dir);
}

/** Words of a shell command line that could name a file: split at blanks and shell
 * operators, quotes removed. A heuristic on purpose: it only decides what to upload, and
 * `--include` adds what it misses (a module a script imports). */
export function commandWords(command: string): string[] {
  return command
    .split(/[\s;|&<>()`]+/)
    .map((w) => w.replace(/^['"]+|['"]+$/g, '').replace(/^\.\//, ''))
    .filter((w) => w !== '' && !w.startsWith('-') && !w.startsWith('/') && !w.includes('..'));
}

export interface WorkflowFilesOptions {
  /** Extra paths (relative to the workflow's directory) to upload. */
  readonly include?: readonly string[];
  /** Upload every file under the workflow's directory instead of the ones commands name. */
  readonly all?: boolean;
  readonly maxBytes?: number;
}

/**
 * The code files of a workflow, from the directory of its workflow.yaml: by default each
 * word of a job's command that names an existing file there (`python uis.py` uploads
 * uis.py), plus `include`; with `all`, every file under the directory. The workflow.yaml
 * itself is sent as the spec, not as a file.
 */
export function workflowFiles(dir: string, commands: readonly string[], specFile: string, options: WorkflowFilesOptions = {}): Record<string, string> {
  const root = resolve(dir);
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
  const specKey = toKey(root, resolve(specFile));
  if (options.all === true) {
    const all = readDirectory(root, maxBytes);
    delete all[specKey];
    return all;
  }
  const files: Record<string, string> = {};
  const add = (word: string, required: boolean) => {
    const path = resolve(root, word);
    const key = toKey(root, path);
    if (key.startsWith('..') || key === specKey || key in files) return;
    let isFile = false;
    try {
      isFile = statSync(path).isFile();
    } catch {
      // not a file here: an argument, an output, a dataset path
    }
    if (isFile) files[key] = readText(path, key);
    else if (required) throw usageError(`--include ${word}: no such file in ${dir}`);
  };
  for (const command of commands) for (const word of commandWords(command)) add(word, false);
  for (const extra of options.include ?? []) add(extra, true);
  return capped(files, maxBytes, 'the workflow files');
}
