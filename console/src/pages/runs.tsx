import { useState } from 'preact/hooks';
import { api, ok, type RunStatus } from '../api';
import { href } from '../router';
import { Empty, Show, Status, short, time, useLoad } from '../ui';

const STATUSES: RunStatus[] = ['AwaitingApproval', 'Pending', 'Running', 'Succeeded', 'Failed', 'Canceled', 'Rejected'];

/** The caller organization's runs, filtered by status. */
export function RunsPage() {
  const [status, setStatus] = useState<RunStatus | ''>('');
  const [loaded] = useLoad(() => ok(api.GET('/workflows', { params: { query: { limit: 100, ...(status !== '' && { status }) } } })), [status]);
  return (
    <section>
      <h1>Runs</h1>
      <label class="inline">
        Status{' '}
        <select name="status" value={status} onChange={(e) => setStatus(e.currentTarget.value as RunStatus | '')}>
          <option value="">all</option>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {s}
            </option>
          ))}
        </select>
      </label>
      <Show loaded={loaded}>
        {(page) =>
          page.items.length === 0 ? (
            <Empty>
              No runs{status === '' ? '' : ` with status ${status}`}. <a href={href('submit')}>Submit a workflow</a>.
            </Empty>
          ) : (
            <div class="scroll">
              <table>
                <thead>
                  <tr>
                    <th>Run</th>
                    <th>Status</th>
                    <th>Jobs</th>
                    <th>Created</th>
                    <th>Updated</th>
                  </tr>
                </thead>
                <tbody>
                  {page.items.map((w) => (
                    <tr key={w.id}>
                      <td>
                        <a href={href('runs', w.id)}>
                          <code>{short(w.id)}</code>
                        </a>
                      </td>
                      <td>
                        <Status value={w.status} />
                      </td>
                      <td>
                        {w.jobs.filter((j) => j.status === 'Succeeded').length}/{w.jobs.length}
                      </td>
                      <td>{time(w.createdAt)}</td>
                      <td>{time(w.updatedAt)}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          )
        }
      </Show>
    </section>
  );
}
