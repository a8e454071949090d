import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, api, bytes, enc, encPath, ok, type JobView, type Receipt, type WorkflowResults, type WorkflowView } from '../api';
import { Dag } from '../dag';
import type { Identity } from '../session';
import { Empty, ErrorBox, Show, Status, bytesText, short, time, useAction, useLoad } from '../ui';
import { receiptInconsistency, sha256Hex, type Receipt as CoreReceipt } from '../../../src/core/receipt';

const FINAL = new Set(['Succeeded', 'Failed', 'Canceled', 'Rejected']);
const POLL_MS = 1000;

/** Polls the run's status while it is not final; undefined while the first answer is awaited. */
function useLiveRun(id: string): { view: WorkflowView | undefined; error: unknown } {
  const [view, setView] = useState<WorkflowView | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const poll = async () => {
      try {
        const next = await ok(api.GET('/workflows/{id}', { params: { path: { id } } }));
        if (!live) return;
        setView(next);
        setError(undefined);
        if (FINAL.has(next.status)) return;
      } catch (err) {
        if (!live) return;
        setError(err);
        // The run is not this organization's (a reviewing owner): nothing to follow.
        if (err instanceof ApiError && err.status === 404) return;
      }
      timer = setTimeout(() => void poll(), POLL_MS);
    };
    void poll();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [id]);
  return { view, error };
}

/** Files downloaded in this tab, kept to check them against the receipt's recorded sha256. */
const downloaded = new Map<string, Map<string, Uint8Array>>();

export function RunPage({ id, who }: { id: string; who: Identity }) {
  const { view, error } = useLiveRun(id);
  const [job, setJob] = useState<string | undefined>(undefined);
  const final = view !== undefined && FINAL.has(view.status);
  const selected = view?.jobs.find((j) => j.name === job);
  return (
    <section>
      <h1>
        Run <code>{short(id)}</code> {view !== undefined && <Status value={view.status} />}
      </h1>
      {view === undefined && error instanceof ApiError && error.status === 404 ? (
        <p class="muted">This run is another organization's: as an owner of one of its datasets you see its results and receipt.</p>
      ) : (
        view === undefined && error !== undefined && <ErrorBox error={error} />
      )}
      {view?.message !== undefined && <p class="muted">{view.message}</p>}
      {view !== undefined && (
        <>
          <div class="card scroll">
            <Dag jobs={view.jobs} selected={job} onSelect={setJob} />
          </div>
          <Jobs jobs={view.jobs} onSelect={setJob} />
          {selected !== undefined && <Log workflowId={id} job={selected} />}
          {!final && <CancelButton id={id} />}
        </>
      )}
      {(final || view === undefined) && <Results id={id} who={who} />}
      {(final || view === undefined) && <ReceiptCard id={id} />}
    </section>
  );
}

function Jobs({ jobs, onSelect }: { jobs: readonly JobView[]; onSelect: (name: string) => void }) {
  return (
    <div class="scroll">
      <table>
        <thead>
          <tr>
            <th>Job</th>
            <th>State</th>
            <th>Started</th>
            <th>Ended</th>
            <th>Attempts</th>
            <th>Exit code</th>
          </tr>
        </thead>
        <tbody>
          {jobs.map((j) => (
            <tr key={j.index}>
              <td>
                <button class="link" onClick={() => onSelect(j.name)}>
                  {j.name}
                </button>
              </td>
              <td>
                <Status value={j.status} />
              </td>
              <td>{time(j.startedAt)}</td>
              <td>{time(j.endedAt)}</td>
              <td>{j.attempts}</td>
              <td>{j.exitCode ?? '—'}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/** A job's log, re-read while the job runs (the API serves the log as written so far). */
function Log({ workflowId, job }: { workflowId: string; job: JobView }) {
  const [text, setText] = useState<string | undefined>(undefined);
  const [error, setError] = useState<unknown>(undefined);
  const running = job.status === 'Running' || job.status === 'Pending';
  const bottom = useRef<HTMLPreElement>(null);
  useEffect(() => {
    let live = true;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const read = async () => {
      try {
        const blob = await bytes(`workflows/${enc(workflowId)}/jobs/${enc(job.name)}/logs`);
        if (!live) return;
        setText(await blob.text());
        setError(undefined);
      } catch (err) {
        if (live) setError(err);
      }
      if (live && running) timer = setTimeout(() => void read(), POLL_MS);
    };
    void read();
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [workflowId, job.name, running]);
  useEffect(() => {
    if (running && bottom.current) bottom.current.scrollTop = bottom.current.scrollHeight;
  }, [text, running]);
  return (
    <figure class="code">
      <figcaption>
        Log of {job.name} {running && <span class="muted">(following)</span>}
      </figcaption>
      <ErrorBox error={error} />
      <pre ref={bottom} class="log">
        {text === undefined ? '' : text === '' ? '(empty)' : text}
      </pre>
    </figure>
  );
}

function CancelButton({ id }: { id: string }) {
  const [busy, error, act] = useAction();
  return (
    <div class="actions">
      <button class="danger" disabled={busy} onClick={() => act(async () => void (await ok(api.POST('/workflows/{id}/cancel', { params: { path: { id } } }))))}>
        Cancel run
      </button>
      <ErrorBox error={error} />
    </div>
  );
}

function Results({ id, who }: { id: string; who: Identity }) {
  const [loaded, reload] = useLoad(() => ok(api.GET('/workflows/{id}/results', { params: { path: { id } } })), [id]);
  return (
    <div class="card">
      <h2>Results</h2>
      <Show loaded={loaded}>{(results) => <ResultList id={id} results={results} who={who} onDecided={reload} />}</Show>
    </div>
  );
}

function ResultList({ id, results, who, onDecided }: { id: string; results: WorkflowResults; who: Identity; onDecided: () => void }) {
  const [busy, error, act] = useAction();
  const [reason, setReason] = useState('');
  const mine = results.reviews.filter((r) => r.org === who.org && r.state === 'pending');
  const download = (path: string) =>
    act(async () => {
      const blob = await bytes(`workflows/${enc(id)}/files/${encPath(path)}`);
      const files = downloaded.get(id) ?? new Map<string, Uint8Array>();
      files.set(path, new Uint8Array(await blob.arrayBuffer()));
      downloaded.set(id, files);
      const a = document.createElement('a');
      a.href = URL.createObjectURL(blob);
      a.download = path.split('/').pop() ?? 'result';
      a.click();
      setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
    });
  const path = { params: { path: { id } } };
  return (
    <>
      <p>
        State: <Status value={results.state} />{' '}
        {results.reviews.map((r) => (
          <span key={`${r.datasetId}`} class="chip">
            {r.org}: {r.state}
          </span>
        ))}
      </p>
      {results.files.length === 0 ? (
        <Empty>The run wrote no files.</Empty>
      ) : (
        <div class="scroll">
          <table>
            <thead>
              <tr>
                <th>File</th>
                <th>Size</th>
                <th>sha256</th>
                <th />
              </tr>
            </thead>
            <tbody>
              {results.files.map((f) => (
                <tr key={f.path}>
                  <td>{f.path}</td>
                  <td>{bytesText(f.size)}</td>
                  <td>
                    <code class="hash">{f.sha256}</code>
                  </td>
                  <td>
                    <button class="secondary" disabled={busy} data-download={f.path} onClick={() => download(f.path)}>
                      Download
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {mine.length > 0 && (
        <div class="actions">
          <button disabled={busy} onClick={() => act(async () => void (await ok(api.POST('/workflows/{id}/results/release', path)), onDecided()))}>
            Release results
          </button>
          <input placeholder="reason for rejecting" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
          <button
            class="danger"
            disabled={busy}
            onClick={() => act(async () => void (await ok(api.POST('/workflows/{id}/results/reject', { ...path, body: { reason } })), onDecided()))}
          >
            Reject results
          </button>
        </div>
      )}
      <ErrorBox error={error} />
    </>
  );
}

type Verdict = { ok: true; text: string } | { ok: false; text: string };

/** What the browser can check of a receipt: the checks of `ledgerflow receipt verify` that
 * need only the receipt (src/core/receipt.ts, the same code), and the files downloaded in this
 * tab against the sha256 the ledger recorded. Asking the ledger for each transaction needs a
 * peer identity, which stays with the CLI. */
function verify(receipt: Receipt, files: ReadonlyMap<string, Uint8Array> | undefined): Verdict {
  const problem = receiptInconsistency(receipt as unknown as CoreReceipt);
  if (problem !== undefined) return { ok: false, text: problem };
  let checked = 0;
  for (const [path, content] of files ?? []) {
    const expected = receipt.run.outputs?.files.find((f) => f.path === path);
    if (expected === undefined) return { ok: false, text: `files: ${path} is not among the run's recorded outputs` };
    const digest = sha256Hex(content);
    if (digest !== expected.sha256 || content.length !== expected.size) {
      return {
        ok: false,
        text: `files: ${path} has sha256 ${digest} (${content.length} bytes), the ledger recorded ${expected.sha256} (${expected.size} bytes)`,
      };
    }
    checked += 1;
  }
  const fileText = checked === 0 ? '' : `; ${checked} downloaded file${checked === 1 ? ' matches' : 's match'} the recorded sha256`;
  return { ok: true, text: `ok: ${receipt.transactions.length} ledger writes agree with the run's summary and hash chain${fileText}` };
}

function ReceiptCard({ id }: { id: string }) {
  const [loaded] = useLoad(() => ok(api.GET('/workflows/{id}/receipt', { params: { path: { id } } })), [id]);
  const [verdict, setVerdict] = useState<Verdict | undefined>(undefined);
  return (
    <div class="card">
      <h2>Receipt</h2>
      <Show loaded={loaded}>
        {(receipt) => (
          <>
            <p class="muted">
              {receipt.transactions.length} transactions on channel {receipt.ledger.channel}. For the check against the ledger itself run{' '}
              <code>ledgerflow receipt verify</code>.
            </p>
            <button data-verify onClick={() => setVerdict(verify(receipt, downloaded.get(id)))}>
              Verify
            </button>
            {verdict !== undefined && (
              <p class={verdict.ok ? 'verdict ok' : 'verdict bad'} role="status">
                {verdict.text}
              </p>
            )}
            <ol class="timeline">
              {receipt.transactions.map((t, i) => (
                <li key={i}>
                  <time>{time(t.timestamp)}</time> <strong>{t.kind}</strong> block {t.blockNumber}
                  <br />
                  <code class="muted">tx {t.txId}</code>
                </li>
              ))}
            </ol>
          </>
        )}
      </Show>
    </div>
  );
}
