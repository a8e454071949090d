import { useState } from 'preact/hooks';
import { api, ok, type Approval, type ApprovalReview } from '../api';
import { lineDiff } from '../diff';
import { href } from '../router';
import type { Identity } from '../session';
import { Empty, ErrorBox, Show, Status, short, time, useAction, useLoad } from '../ui';

/** The owners' inbox: runs on their datasets waiting for consent, each with its workflow and
 * code beside the last version of the same workflow they approved (same requester
 * organization, same dataset), and approve (with reuse) or reject with a reason. */
export function ApprovalsPage({ selected, who }: { selected: string | undefined; who: Identity }) {
  // Bumped by each decision: both lists are read again.
  const [decisions, setDecisions] = useState(0);
  const [pending] = useLoad(() => ok(api.GET('/approvals', { params: { query: { state: 'pending', limit: 100 } } })), [decisions]);
  return (
    <section class="split">
      <div>
        <h1>Approvals</h1>
        <Show loaded={pending}>
          {(page) =>
            page.items.length === 0 ? (
              <Empty>Nothing waits for {who.org}'s approval.</Empty>
            ) : (
              <ul class="list">
                {page.items.map((a) => (
                  <li key={`${a.workflowId}/${a.datasetId}`} class={a.workflowId === selected ? 'active' : ''}>
                    <a href={href('approvals', a.workflowId)}>
                      <strong>{a.datasetName}</strong> for {a.requester.user}@{a.requester.org}
                    </a>
                    <br />
                    <span class="muted">
                      run {short(a.workflowId)} · {time(a.requestedAt)}
                    </span>
                  </li>
                ))}
              </ul>
            )
          }
        </Show>
        <Approved version={decisions} />
      </div>
      {selected !== undefined && <Review workflowId={selected} onDecided={() => setDecisions((d) => d + 1)} />}
    </section>
  );
}

/** Runs the organization approved, to review their results and read their receipts. */
function Approved({ version }: { version: number }) {
  const [approved] = useLoad(() => ok(api.GET('/approvals', { params: { query: { state: 'approved', limit: 20 } } })), [version]);
  if (approved.state !== 'ok' || approved.value.items.length === 0) return null;
  return (
    <>
      <h2>Approved</h2>
      <ul class="list">
        {approved.value.items.map((a) => (
          <li key={`${a.workflowId}/${a.datasetId}`}>
            <a href={href('runs', a.workflowId)}>run {short(a.workflowId)}: results and receipt</a>
            <br />
            <span class="muted">
              {a.datasetName} for {a.requester.user}@{a.requester.org} · {time(a.decidedAt)}
            </span>
          </li>
        ))}
      </ul>
    </>
  );
}

/** The last approved request of the same requester on the same dataset, if any. */
async function previousApproved(review: ApprovalReview): Promise<ApprovalReview | undefined> {
  const approved = await ok(api.GET('/approvals', { params: { query: { state: 'approved', limit: 100 } } }));
  const datasets = new Set(review.datasets.map((d) => d.id));
  const earlier = approved.items
    .filter((a: Approval) => a.workflowId !== review.workflowId && a.requester.org === review.requester.org && datasets.has(a.datasetId))
    .sort((x, y) => (y.decidedAt ?? '').localeCompare(x.decidedAt ?? ''))[0];
  if (earlier === undefined) return undefined;
  return ok(api.GET('/approvals/{workflowId}', { params: { path: { workflowId: earlier.workflowId } } }));
}

function Review({ workflowId, onDecided }: { workflowId: string; onDecided: () => void }) {
  const [loaded, reload] = useLoad(async () => {
    const review = await ok(api.GET('/approvals/{workflowId}', { params: { path: { workflowId } } }));
    return { review, previous: await previousApproved(review).catch(() => undefined) };
  }, [workflowId]);
  return (
    <div class="review">
      <Show loaded={loaded}>
        {({ review, previous }) => (
          <>
            <h2>
              Run <code>{short(review.workflowId)}</code> by {review.requester.user}@{review.requester.org} <Status value={review.status} />
            </h2>
            <p>
              Datasets:{' '}
              {review.datasets.map((d) => (
                <span key={d.id} class="chip">
                  {d.name} ({d.owner}): {d.state}
                </span>
              ))}
            </p>
            <p class="muted">
              {previous === undefined ? 'No earlier approved version of this workflow.' : `Compared with run ${short(previous.workflowId)}, approved earlier.`}
            </p>
            <Compare title="workflow.yaml" before={previous?.workflow} after={review.workflow} />
            {review.files.map((f) => (
              <Compare
                key={f.path}
                title={`${f.path} (${f.size} bytes, sha256 ${f.sha256.slice(0, 12)}…)`}
                before={previous === undefined ? undefined : (previous.files.find((p) => p.path === f.path)?.content ?? '')}
                after={f.content ?? '(not shown: binary or too large)'}
              />
            ))}
            <Decide
              workflowId={workflowId}
              onDecided={() => {
                reload();
                onDecided();
              }}
            />
          </>
        )}
      </Show>
    </div>
  );
}

function Compare({ title, before, after }: { title: string; before: string | undefined; after: string }) {
  const diff = before === undefined ? undefined : lineDiff(before, after);
  return (
    <figure class="code">
      <figcaption>{title}</figcaption>
      {diff === undefined ? (
        <pre>{after}</pre>
      ) : (
        <pre>
          {diff.map((l, i) => (
            <div key={i} class={`d-${l.kind}`}>
              {l.kind === 'added' ? '+ ' : l.kind === 'removed' ? '- ' : '  '}
              {l.text}
            </div>
          ))}
        </pre>
      )}
    </figure>
  );
}

function Decide({ workflowId, onDecided }: { workflowId: string; onDecided: () => void }) {
  const [reuse, setReuse] = useState(false);
  const [reason, setReason] = useState('');
  const [busy, error, act] = useAction();
  const path = { params: { path: { workflowId } } };
  return (
    <div class="card actions">
      <label class="inline">
        <input type="checkbox" checked={reuse} onChange={(e) => setReuse(e.currentTarget.checked)} /> also approve later runs of the same code (reuse)
      </label>
      <button
        disabled={busy}
        onClick={() => act(async () => void (await ok(api.POST('/approvals/{workflowId}/approve', { ...path, body: { reuse } })), onDecided()))}
      >
        Approve
      </button>
      <input placeholder="reason for rejecting" value={reason} onInput={(e) => setReason(e.currentTarget.value)} />
      <button
        class="danger"
        disabled={busy}
        onClick={() => act(async () => void (await ok(api.POST('/approvals/{workflowId}/reject', { ...path, body: { reason } })), onDecided()))}
      >
        Reject
      </button>
      <ErrorBox error={error} />
    </div>
  );
}
