import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { isMap, isScalar, isSeq, parseDocument, type YAMLMap } from 'yaml';
import { CliError, EXIT, usageError } from './exitCodes';

/**
 * Reads a workflow.yaml far enough for the client's needs: the commands (to find the code
 * files to upload) and the volumes (to fill in dataset ids given as `--dataset name=id`).
 * Everything else is the server's to judge: it reports every spec error with its path.
 * Edits go through the YAML document, so comments and layout survive.
 */
export interface VolumeRef {
  job: number; // 1-based, as in `dags`
  name: string;
  id: string;
}

export interface LoadedWorkflow {
  text: string;
  commands: string[];
  volumes: VolumeRef[];
}

export interface LoadOptions {
  /** Give volumes without an id a stand-in (`placeholderDatasetId(name)`) instead of
   * refusing: for previews that never reach a server. */
  readonly placeholderIds?: boolean;
}

/** A stand-in dataset id for a preview: well-formed (core/names.ts), the same for the same
 * volume name, and plainly not one the platform issued (it starts with eight zeros). */
export function placeholderDatasetId(volumeName: string): string {
  return `00000000${createHash('sha256').update(volumeName).digest('hex').slice(0, 24)}`;
}

/** `-f -`: the workflow comes from standard input, as kubectl's `-f -` does. */
export const STDIN = '-';

/** Where a workflow's code files are looked up: beside its file, or for stdin in the current
 * directory. */
export const workflowDir = (file: string): string => (file === STDIN ? process.cwd() : dirname(file));

export function loadWorkflow(file: string, datasets: Readonly<Record<string, string>> = {}, options: LoadOptions = {}): LoadedWorkflow {
  const path = file === STDIN ? 'the workflow on stdin' : file;
  let source: string;
  try {
    source = readFileSync(file === STDIN ? 0 : file, 'utf8');
  } catch (err) {
    throw usageError(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const doc = parseDocument(source, { prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new CliError(EXIT.usage, 'validation_failed', `${path} is not valid YAML: ${doc.errors[0]?.message.split('\n')[0] ?? ''}`);
  }
  const jobs = isMap(doc.contents) ? doc.contents.get('jobs') : undefined;
  if (!isSeq(jobs)) throw new CliError(EXIT.usage, 'validation_failed', `${path} has no jobs list`);

  const commands: string[] = [];
  const volumes: VolumeRef[] = [];
  const used = new Set<string>();
  let edited = false;
  jobs.items.forEach((job, i) => {
    if (isScalar(job)) return void commands.push(String(job.value));
    if (!isMap(job)) return;
    const command = job.get('command');
    if (typeof command === 'string') commands.push(command);
    const list = job.get('volumes');
    if (!isSeq(list)) return;
    for (const volume of list.items) {
      if (!isMap(volume)) continue;
      const name = String((volume as YAMLMap).get('name') ?? '');
      const bound = datasets[name];
      if (bound !== undefined) {
        (volume as YAMLMap).set('id', bound);
        used.add(name);
      } else if (options.placeholderIds === true && String((volume as YAMLMap).get('id') ?? '').trim() === '') {
        (volume as YAMLMap).set('id', placeholderDatasetId(name));
        edited = true;
      }
      volumes.push({ job: i + 1, name, id: String((volume as YAMLMap).get('id') ?? '').replace(/\s+/g, '') });
    }
  });
  const unused = Object.keys(datasets).filter((name) => !used.has(name));
  if (unused.length > 0) throw usageError(`--dataset ${unused.join(', ')}: no volume of that name in ${path}`);
  const missing = volumes.filter((v) => v.id === '');
  if (missing.length > 0) {
    throw usageError(missing.map((v) => `volume "${v.name}" of job ${v.job} has no dataset id`).join('; ') + ': pass --dataset <name>=<id>');
  }
  return { text: used.size === 0 && !edited ? source : doc.toString(), commands, volumes };
}
