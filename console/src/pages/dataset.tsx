import { useState } from 'preact/hooks';
import { api, ok, type Dataset } from '../api';
import type { Identity } from '../session';
import { Empty, ErrorBox, Show, Status, bytesText, time, useAction, useLoad } from '../ui';

/** A dataset: its details and lease, its policy (editable by the owner), its files (owner or
 * holder) and its ledger history as a timeline. */
export function DatasetPage({ id, who }: { id: string; who: Identity }) {
  const path = { params: { path: { id } } };
  const [loaded, reload] = useLoad(() => ok(api.GET('/datasets/{id}', path)), [id]);
  return (
    <section>
      <Show loaded={loaded}>
        {(d) => (
          <>
            <h1>{d.name}</h1>
            {d.description !== '' && <p>{d.description}</p>}
            <dl class="facts">
              <dt>Id</dt>
              <dd>
                <code>{d.id}</code>
              </dd>
              <dt>Owner</dt>
              <dd>
                {d.owner.user}@{d.owner.org}
              </dd>
              <dt>State</dt>
              <dd>
                <Status value={d.state} />
              </dd>
              <dt>Holder</dt>
              <dd>{d.lease === null ? 'nobody' : `${d.lease.holder.user}@${d.lease.holder.org} until ${time(d.lease.expiresAt)}`}</dd>
              <dt>Storage</dt>
              <dd>{d.storageKind}</dd>
            </dl>
            <LeaseControls dataset={d} who={who} onChange={reload} />
            <Policy dataset={d} who={who} onSaved={reload} />
            {(d.owner.org === who.org || d.lease?.holder.org === who.org) && <Tree id={id} />}
            <History id={id} version={`${d.updatedAt} ${d.lease?.takenAt ?? ''}`} />
          </>
        )}
      </Show>
    </section>
  );
}

function LeaseControls({ dataset, who, onChange }: { dataset: Dataset; who: Identity; onChange: () => void }) {
  const [busy, error, act] = useAction();
  const path = { params: { path: { id: dataset.id } } };
  if (dataset.state === 'deleted') return null;
  const mine = dataset.lease?.holder.org === who.org;
  return (
    <div class="actions">
      {dataset.lease === null && (
        <button disabled={busy} onClick={() => act(async () => void (await ok(api.POST('/datasets/{id}/lease', path)), onChange()))}>
          Lease
        </button>
      )}
      {dataset.lease !== null && (mine || dataset.owner.org === who.org) && (
        <button class="secondary" disabled={busy} onClick={() => act(async () => void (await ok(api.DELETE('/datasets/{id}/lease', path)), onChange()))}>
          Release lease
        </button>
      )}
      <ErrorBox error={error} />
    </div>
  );
}

function Policy({ dataset, who, onSaved }: { dataset: Dataset; who: Identity; onSaved: () => void }) {
  const owner = dataset.owner.org === who.org && dataset.state !== 'deleted';
  const [policy, setPolicy] = useState(dataset.policy);
  // Empty means no limit: sent as null, which clears a limit set before.
  const [maxResultBytes, setMaxResultBytes] = useState(dataset.policy.maxResultBytes?.toString() ?? '');
  const [busy, error, act] = useAction();
  const save = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      const limit = maxResultBytes.trim() === '' ? null : Number(maxResultBytes);
      await ok(api.PATCH('/datasets/{id}', { params: { path: { id: dataset.id } }, body: { policy: { ...policy, maxResultBytes: limit } } }));
      onSaved();
    });
  };
  const number = (key: 'leaseTtlSeconds' | 'maxLeaseTtlSeconds') => (
    <input type="number" min={1} value={policy[key]} disabled={!owner} onInput={(e) => setPolicy({ ...policy, [key]: Number(e.currentTarget.value) })} />
  );
  return (
    <form class="card grid" onSubmit={save}>
      <h2 class="wide">Policy {owner ? '' : <span class="muted">(the owner edits it)</span>}</h2>
      <label>Lease length (s){number('leaseTtlSeconds')}</label>
      <label>Longest lease (s){number('maxLeaseTtlSeconds')}</label>
      <label>
        Approval of runs
        <select value={policy.approval} disabled={!owner} onChange={(e) => setPolicy({ ...policy, approval: e.currentTarget.value as 'required' | 'none' })}>
          <option value="required">required</option>
          <option value="none">none</option>
        </select>
      </label>
      <label>
        Results
        <select
          name="policy-results"
          value={policy.results}
          disabled={!owner}
          onChange={(e) => setPolicy({ ...policy, results: e.currentTarget.value as 'release' | 'review' })}
        >
          <option value="release">release</option>
          <option value="review">review</option>
        </select>
      </label>
      <label>
        Largest results (bytes, empty: no limit)
        <input type="number" min={1} value={maxResultBytes} disabled={!owner} onInput={(e) => setMaxResultBytes(e.currentTarget.value)} />
      </label>
      {owner && (
        <button type="submit" disabled={busy}>
          Save policy
        </button>
      )}
      <ErrorBox error={error} />
    </form>
  );
}

function Tree({ id }: { id: string }) {
  const [loaded] = useLoad(() => ok(api.GET('/datasets/{id}/tree', { params: { path: { id } } })), [id]);
  return (
    <div class="card">
      <h2>Files</h2>
      <Show loaded={loaded}>
        {(tree) =>
          tree.items.length === 0 ? (
            <Empty>No files.</Empty>
          ) : (
            <ul class="tree">
              {tree.items.map((f) => (
                <li key={f.path} style={{ paddingLeft: `${(f.path.split('/').length - 1) * 1.2}em` }}>
                  {f.path.split('/').pop()}
                  {f.type === 'directory' ? '/' : ''} <span class="muted">{bytesText(f.size)}</span>
                </li>
              ))}
            </ul>
          )
        }
      </Show>
    </div>
  );
}

/** `version` changes when the dataset does (an edit, a lease): the history is read again. */
function History({ id, version }: { id: string; version: string }) {
  const [loaded] = useLoad(() => ok(api.GET('/datasets/{id}/history', { params: { path: { id } } })), [id, version]);
  return (
    <div class="card">
      <h2>Ledger history</h2>
      <Show loaded={loaded}>
        {(history) =>
          history.items.length === 0 ? (
            <Empty>No transactions.</Empty>
          ) : (
            <ol class="timeline">
              {history.items.map((h) => (
                <li key={h.txId}>
                  <time>{time(h.timestamp)}</time> <strong>{h.action}</strong> by {h.by.user}@{h.by.org}
                  <br />
                  <code class="muted">tx {h.txId}</code>
                </li>
              ))}
            </ol>
          )
        }
      </Show>
    </div>
  );
}
