import type { V1EnvVar, V1Pod } from '@kubernetes/client-node';
import { LedgerflowError } from '../../../core/errors';
import { relativePathProblem } from '../../../core/relativePath';
import type { FileDigest } from '../../../core/workflow/outputs';
import { LABELS, names, runLabels } from './names';
import type { ClusterOptions } from './options';
import { containerSecurityContext, podSecurityContext } from './pod';
import { WORKSPACE_PATH } from './workspace';

export const ROLE_READER = 'reader';
/** Exit code of the reader when the file is absent (or not a regular file). */
export const READER_NOT_FOUND = 3;

/**
 * A pod that prints one workspace file, base64-encoded, to its log: the only way to read a
 * volume through the API without pods/exec. It mounts the workspace read-only and nothing
 * else, so a symlink planted by a job resolves inside this pod's own image, never into a
 * dataset. The path (checked relative by the caller) travels in the environment, not in
 * the shell text.
 */
export function readerPod(opts: ClusterOptions, workflowId: string, path: string, nonce: string): V1Pod {
  return workspacePod(opts, workflowId, names.reader(workflowId, path, nonce), 300, {
    command: ['/bin/sh', '-c', `[ -f "${WORKSPACE_PATH}/$LF_PATH" ] || exit ${READER_NOT_FOUND}; exec base64 "${WORKSPACE_PATH}/$LF_PATH"`],
    env: [{ name: 'LF_PATH', value: path }],
  });
}

/**
 * A pod that lists the workspace's regular files for a run's output manifest: `BEGIN`, one
 * line per file, `F <size> <sha256> <base64 of the path>`, then `END <find's exit status>`
 * (BEGIN and END so that a log the kubelet rotated, or cut, is never taken for a whole one). `find -P`
 * neither follows nor lists a link (nor a FIFO, socket or device); the file is hashed
 * through its stdin and every name starts with `./`, so none can be read as an option; the
 * per-file script travels in the environment, out of the quoting; a name leaves the pod only base64-encoded: a name the job chose (a newline, a line
 * that looks like a record) cannot forge a record. stderr is dropped, as it would share the
 * log. Past `limit` files `head` cuts the listing (no END line), which the parser reports as
 * too many files, so a job that leaves millions of files does not make a huge log.
 */
export function listerPod(opts: ClusterOptions, workflowId: string, limit: number, nonce: string): V1Pod {
  const each = `for f; do s=$(stat -c %s "$f") && h=$(sha256sum < "$f") && p=$(printf %s "\${f#./}" | base64 | tr -d '\\n') || exit 1; printf 'F %s %s %s\\n' "$s" "\${h%% *}" "$p"; done`;
  const script = `cd "${WORKSPACE_PATH}" || exit 2; { echo BEGIN; find -P . -type f -exec sh -c "$LF_EACH" sh {} + 2>/dev/null; echo "END $?"; } | head -n ${limit + 2}`;
  // Hashing every file of a large workspace takes longer than reading one.
  return workspacePod(opts, workflowId, names.lister(workflowId, nonce), 1800, {
    command: ['/bin/sh', '-c', script],
    env: [{ name: 'LF_EACH', value: each }],
  });
}

/** Enough log for a listing of `limit` files whose names the path rule accepts (at most 1024
 * UTF-16 units, so 3072 UTF-8 bytes, 4096 in base64, plus size and digest); a longer log
 * holds a refused name anyway, and its cut record fails the parse. */
export const listingLogBytes = (limit: number): number => (limit + 2) * 4200;

const RECORD = /^F (0|[1-9]\d{0,15}) ([0-9a-f]{64}) ([A-Za-z0-9+/]+={0,2})$/;
const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * The files of a lister pod's log. The job controls the names (and could try anything the
 * format allows), so every line must be a well-formed record, every name valid UTF-8 in
 * canonical base64 and an acceptable relative path (src/core/relativePath.ts), and unique;
 * anything else fails the whole listing rather than record or drop a file unseen.
 */
export function parseListing(log: string, limit: number): FileDigest[] {
  const lines = log.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines[0] !== 'BEGIN') throw new Error('the workspace listing lacks its beginning');
  const files: FileDigest[] = [];
  const seen = new Set<string>();
  for (const [i, line] of lines.entries()) {
    if (i === 0) continue;
    if (i === lines.length - 1 && line.startsWith('END ')) {
      if (line !== 'END 0') throw new Error(`the workspace listing failed (${line.slice(4, 16)})`);
      return files;
    }
    if (files.length === limit)
      throw new LedgerflowError('payload_too_large', `the workspace holds more than ${limit} files; a run's outputs may list at most ${limit}`);
    const m = RECORD.exec(line);
    if (m === null) throw new Error(`line ${i + 1} of the workspace listing is malformed`);
    const raw = Buffer.from(m[3]!, 'base64');
    if (raw.toString('base64') !== m[3]) throw new Error(`line ${i + 1} of the workspace listing is malformed`);
    let path: string;
    try {
      path = utf8.decode(raw);
    } catch {
      throw new Error(`the workspace holds a file whose name is not UTF-8 (line ${i + 1})`);
    }
    const problem = relativePathProblem(path);
    // The name stays out of the message: the run's message reaches the requester, review or not.
    if (problem !== undefined) throw new Error(`the workspace holds a file whose name is refused (line ${i + 1}: the path ${problem})`);
    if (seen.has(path)) throw new Error(`the workspace listing names a file twice (line ${i + 1})`);
    seen.add(path);
    files.push({ path, size: Number(m[1]), sha256: m[2]! });
  }
  throw new Error('the workspace listing is incomplete');
}

function workspacePod(opts: ClusterOptions, workflowId: string, name: string, deadlineSeconds: number, main: { command: string[]; env: V1EnvVar[] }): V1Pod {
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: opts.namespace, labels: { ...runLabels(workflowId), [LABELS.role]: ROLE_READER } },
    spec: {
      restartPolicy: 'Never',
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      activeDeadlineSeconds: deadlineSeconds,
      securityContext: podSecurityContext(opts),
      containers: [
        {
          name: 'main',
          image: opts.readerImage,
          command: main.command,
          env: main.env,
          volumeMounts: [{ name: 'workspace', mountPath: WORKSPACE_PATH, readOnly: true }],
          resources: { requests: { cpu: '10m', memory: '16Mi' }, limits: { cpu: '200m', memory: '64Mi' } },
          securityContext: containerSecurityContext(),
        },
      ],
      volumes: [{ name: 'workspace', persistentVolumeClaim: { claimName: names.workspaceClaim(workflowId), readOnly: true } }],
    },
  };
}
