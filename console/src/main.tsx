import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { api, ok } from './api';
import { APP_SERVICE_LOGIN, appServiceAuthentication, authorization, forget, rememberToken, type Identity } from './session';
import { href, useRoute } from './router';
import { ErrorBox } from './ui';
import { DatasetsPage } from './pages/datasets';
import { DatasetPage } from './pages/dataset';
import { ApprovalsPage } from './pages/approvals';
import { RunsPage } from './pages/runs';
import { RunPage } from './pages/run';
import { SubmitPage } from './pages/submit';
import './styles.css';

/** The caller per the API: by this tab's token, or else by App Service authentication's
 * session cookie (on Azure). */
async function whoAmI(): Promise<Identity> {
  const me = await ok(api.GET('/me'));
  return { ...me, via: authorization() === undefined ? 'app-service' : 'token' };
}

function SignIn({ onSignedIn }: { onSignedIn: (who: Identity) => void }) {
  const [token, setToken] = useState('');
  const [error, setError] = useState<unknown>(undefined);
  const [platform, setPlatform] = useState(false);
  useEffect(() => void appServiceAuthentication().then(setPlatform), []);
  const submit = async (e: Event) => {
    e.preventDefault();
    rememberToken(token.trim());
    try {
      onSignedIn(await whoAmI());
    } catch (err) {
      forget();
      setError(err);
    }
  };
  return (
    <main class="signin">
      <h1>ledgerflow</h1>
      <p class="muted">Sign in with your organization's API token. It stays in this tab only.</p>
      <form onSubmit={submit}>
        <label>
          Token
          <input type="password" name="token" autocomplete="off" value={token} onInput={(e) => setToken(e.currentTarget.value)} required />
        </label>
        <button type="submit">Sign in</button>
      </form>
      <ErrorBox error={error} />
      {platform && (
        <p>
          Or <a href={APP_SERVICE_LOGIN}>sign in with your organization account</a>.
        </p>
      )}
    </main>
  );
}

function Shell({ who, onSignOut }: { who: Identity; onSignOut: () => void }) {
  const route = useRoute();
  const [section = 'datasets', id] = route;
  const page = (() => {
    if (section === 'datasets' && id !== undefined) return <DatasetPage id={id} who={who} />;
    if (section === 'approvals') return <ApprovalsPage selected={id} who={who} />;
    if (section === 'runs' && id !== undefined) return <RunPage id={id} who={who} />;
    if (section === 'runs') return <RunsPage />;
    if (section === 'submit') return <SubmitPage />;
    return <DatasetsPage who={who} />;
  })();
  const nav = (name: string, label: string) => (
    <a href={href(name)} class={section === name ? 'active' : ''}>
      {label}
    </a>
  );
  return (
    <>
      <header>
        <a class="brand" href={href('datasets')}>
          ledgerflow
        </a>
        <nav>
          {nav('datasets', 'Datasets')}
          {nav('approvals', 'Approvals')}
          {nav('runs', 'Runs')}
          {nav('submit', 'Submit')}
        </nav>
        <span class="who">
          {who.user}@{who.org}
          {who.via === 'token' && (
            <button class="link" onClick={onSignOut}>
              Sign out
            </button>
          )}
        </span>
      </header>
      <main>{page}</main>
    </>
  );
}

function App() {
  const [who, setWho] = useState<Identity | undefined | null>(undefined);
  useEffect(() => {
    // A token of this tab, else App Service authentication's session (on Azure), else sign in.
    whoAmI()
      .then(setWho)
      .catch(() => {
        forget();
        setWho(null);
      });
  }, []);
  if (who === undefined) return <p class="muted">Loading…</p>;
  if (who === null) return <SignIn onSignedIn={setWho} />;
  return (
    <Shell
      who={who}
      onSignOut={() => {
        forget();
        setWho(null);
      }}
    />
  );
}

render(<App />, document.getElementById('app') as HTMLElement);
