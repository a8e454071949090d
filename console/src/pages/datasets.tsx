import { useState } from 'preact/hooks';
import { api, ok } from '../api';
import { go, href } from '../router';
import type { Identity } from '../session';
import { Empty, ErrorBox, Show, Status, short, time, useAction, useLoad } from '../ui';

/** Every dataset with its owner, state, holder and lease expiry; owners register new ones. */
export function DatasetsPage({ who }: { who: Identity }) {
  const [loaded] = useLoad(() => ok(api.GET('/datasets', { params: { query: { limit: 100 } } })), []);
  return (
    <section>
      <h1>Datasets</h1>
      <Show loaded={loaded}>
        {(page) =>
          page.items.length === 0 ? (
            <Empty>No datasets yet. Register one below: it is owned by {who.org}.</Empty>
          ) : (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Name</th>
                    <th>Owner</th>
                    <th>State</th>
                    <th>Holder</th>
                    <th>Lease expires</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((d) => (
                    <tr key={d.id}>
                      <td>
                        <a href={href('datasets', d.id)}>{d.name}</a> <code class="muted">{short(d.id)}</code>
                      </td>
                      <td>{d.owner.org}</td>
                      <td>
                        <Status value={d.state} />
                      </td>
                      <td>{d.lease === null ? '—' : `${d.lease.holder.user}@${d.lease.holder.org}`}</td>
                      <td>{time(d.lease?.expiresAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
      <RegisterForm />
    </section>
  );
}

function RegisterForm() {
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [fileName, setFileName] = useState('data.csv');
  const [content, setContent] = useState('');
  const [results, setResults] = useState<'release' | 'review'>('release');
  const [busy, error, act] = useAction();
  const submit = (e: Event) => {
    e.preventDefault();
    void act(async () => {
      const created = await ok(
        api.POST('/datasets', {
          body: {
            name,
            ...(description !== '' && { description }),
            policy: { results },
            ...(content !== '' && { files: { [fileName]: content } }),
          },
        }),
      );
      go('datasets', created.id);
    });
  };
  return (
    <details class="card" open={false}>
      <summary>Register a dataset</summary>
      <form onSubmit={submit} class="grid">
        <label>
          Name
          <input name="name" value={name} onInput={(e) => setName(e.currentTarget.value)} required />
        </label>
        <label>
          Description
          <input name="description" value={description} onInput={(e) => setDescription(e.currentTarget.value)} />
        </label>
        <label>
          Results
          <select name="results" value={results} onChange={(e) => setResults(e.currentTarget.value as 'release' | 'review')}>
            <option value="release">released to the lessee when the run ends</option>
            <option value="review">reviewed by the owner first</option>
          </select>
        </label>
        <label>
          First file (optional)
          <input name="fileName" value={fileName} onInput={(e) => setFileName(e.currentTarget.value)} />
        </label>
        <label class="wide">
          Its content
          <textarea name="content" rows={4} value={content} onInput={(e) => setContent(e.currentTarget.value)} />
        </label>
        <button type="submit" disabled={busy}>
          Register
        </button>
      </form>
      <ErrorBox error={error} />
    </details>
  );
}
