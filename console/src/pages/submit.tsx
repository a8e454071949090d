import { useMemo, useState } from 'preact/hooks';
import { isMap, isSeq, parseDocument } from 'yaml';
import { ApiError, api, ok } from '../api';
import { go } from '../router';
import { ErrorBox, useAction, useLoad } from '../ui';
import { LedgerflowError } from '../../../src/core/errors';
import { parseWorkflowSpec } from '../../../src/core/workflow/spec';

const EXAMPLE = `jobs:
  - name: count
    command: 'wc -l /data/*.csv > count.txt'
    volumes:
      - {id: 'DATASET_ID', name: 'data', path: '/data'}
  - name: report
    command: 'cat count.txt > report.txt'
dags:
  - count >> report
`;

interface Volume {
  job: number;
  volume: number;
  id: string;
  name: string;
}

/** Every volume the YAML names, valid or not, so a dataset can be picked for each. */
function volumesOf(source: string): Volume[] {
  const doc = parseDocument(source);
  const jobs = doc.get('jobs');
  if (!isSeq(jobs)) return [];
  return jobs.items.flatMap((job, j) => {
    const volumes = isMap(job) ? job.get('volumes') : undefined;
    if (!isSeq(volumes)) return [];
    return volumes.items.flatMap((v, k) => (isMap(v) ? [{ job: j, volume: k, id: String(v.get('id') ?? ''), name: String(v.get('name') ?? '') }] : []));
  });
}

function withVolume(source: string, v: Volume, datasetId: string): string {
  const doc = parseDocument(source);
  doc.setIn(['jobs', v.job, 'volumes', v.volume, 'id'], datasetId);
  return doc.toString();
}

/** The spec's problems with their paths, from the same parser the API runs (src/core). */
function specProblems(source: string): ApiError | undefined {
  try {
    parseWorkflowSpec(source);
    return undefined;
  } catch (err) {
    if (err instanceof LedgerflowError) return new ApiError(400, err.code, err.message, err.details ?? []);
    return new ApiError(400, 'validation_failed', err instanceof Error ? err.message : String(err));
  }
}

/** Paste or upload a workflow.yaml and its code files, pick leased datasets for its volumes,
 * see every spec error before sending. */
export function SubmitPage() {
  const [workflow, setWorkflow] = useState(EXAMPLE);
  const [files, setFiles] = useState<Record<string, string>>({});
  const [newPath, setNewPath] = useState('');
  const [newContent, setNewContent] = useState('');
  const [busy, error, act] = useAction();
  const [datasets] = useLoad(() => ok(api.GET('/datasets', { params: { query: { limit: 100 } } })), []);
  const problems = useMemo(() => specProblems(workflow), [workflow]);
  const volumes = useMemo(() => volumesOf(workflow), [workflow]);
  const leased = datasets.state === 'ok' ? datasets.value.items.filter((d) => d.lease !== null) : [];

  const upload = async (e: Event, asWorkflow: boolean) => {
    const list = (e.currentTarget as HTMLInputElement).files;
    if (list === null) return;
    if (asWorkflow && list[0] !== undefined) return setWorkflow(await list[0].text());
    const added: Record<string, string> = {};
    for (const f of Array.from(list)) added[f.name] = await f.text();
    setFiles({ ...files, ...added });
  };
  const submit = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      const accepted = await ok(api.POST('/workflows', { body: { workflow, files } }));
      go('runs', accepted.id);
    });
  };
  return (
    <section>
      <h1>Submit a workflow</h1>
      <form onSubmit={submit}>
        <div class="split">
          <label>
            workflow.yaml <input type="file" accept=".yaml,.yml" onChange={(e) => void upload(e, true)} />
            <textarea name="workflow" rows={14} class="mono" value={workflow} onInput={(e) => setWorkflow(e.currentTarget.value)} spellcheck={false} />
          </label>
          <div>
            <h2>Datasets for the volumes</h2>
            {volumes.length === 0 && <p class="muted">The workflow mounts no datasets.</p>}
            {volumes.map((v) => (
              <label key={`${v.job}/${v.volume}`}>
                job {v.job + 1}, volume {v.name || v.volume + 1}
                <select name={`volume-${v.job}-${v.volume}`} value={v.id} onChange={(e) => setWorkflow(withVolume(workflow, v, e.currentTarget.value))}>
                  <option value={v.id}>{v.id}</option>
                  {leased
                    .filter((d) => d.id !== v.id)
                    .map((d) => (
                      <option key={d.id} value={d.id}>
                        {d.name} ({d.owner.org})
                      </option>
                    ))}
                </select>
              </label>
            ))}
            {leased.length === 0 && <p class="muted">Lease a dataset on its page first.</p>}
            <h2>Code files</h2>
            <ul>
              {Object.entries(files).map(([path, content]) => (
                <li key={path}>
                  {path} <span class="muted">({content.length} characters)</span>{' '}
                  <button
                    type="button"
                    class="link"
                    onClick={() => {
                      const rest = { ...files };
                      delete rest[path];
                      setFiles(rest);
                    }}
                  >
                    remove
                  </button>
                </li>
              ))}
            </ul>
            <input type="file" multiple onChange={(e) => void upload(e, false)} />
            <label>
              Path <input name="filePath" value={newPath} onInput={(e) => setNewPath(e.currentTarget.value)} placeholder="analysis.py" />
            </label>
            <textarea name="fileContent" rows={4} class="mono" value={newContent} onInput={(e) => setNewContent(e.currentTarget.value)} />
            <button
              type="button"
              class="secondary"
              disabled={newPath === ''}
              onClick={() => {
                setFiles({ ...files, [newPath]: newContent });
                setNewPath('');
                setNewContent('');
              }}
            >
              Add file
            </button>
          </div>
        </div>
        {problems === undefined ? <p class="verdict ok">The spec is valid.</p> : <ErrorBox error={problems} />}
        <button type="submit" disabled={busy || problems !== undefined}>
          Submit
        </button>
        <ErrorBox error={error} />
      </form>
    </section>
  );
}
