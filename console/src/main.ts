import { html } from 'htm/preact';
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { storeToken, storedToken } from './api.ts';
import { GroupPage, GroupsPage } from './groups-page.ts';
import { OverviewPage } from './overview-page.ts';
import { TopicPage, TopicsPage } from './topics-page.ts';

/** Pages are addressed by the URL's fragment (`#/topics/orders`), so the broker serves one `index.html`. */
function useRoute(): string[] {
  const parse = () =>
    location.hash
      .replace(/^#\/?/, '')
      .split('/')
      .filter((s) => s !== '')
      .map(decodeURIComponent);
  const [route, setRoute] = useState(parse);
  useEffect(() => {
    const onChange = () => {
      setRoute(parse());
      // A page change moves keyboard and screen-reader focus to the new page's content, as a page load would.
      requestAnimationFrame(() => document.getElementById('main')?.focus());
    };
    addEventListener('hashchange', onChange);
    return () => removeEventListener('hashchange', onChange);
  }, []);
  return route;
}

function TokenForm({ onChange }: { onChange: () => void }) {
  const [token, setToken] = useState(storedToken());
  return html`
    <form
      class="token"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        storeToken(token.trim());
        onChange();
      }}
    >
      <label for="token">Bearer token</label>
      <input id="token" type="password" autocomplete="off" value=${token} onInput=${(e: Event) => setToken((e.target as HTMLInputElement).value)} />
      <button type="submit">Use token</button>
    </form>
  `;
}

const PAGES = [
  { path: '', label: 'Overview' },
  { path: 'topics', label: 'Topics' },
  { path: 'groups', label: 'Consumer groups' },
] as const;

function Page({ route }: { route: string[] }) {
  const [section, name] = route;
  if (section === 'topics') return name === undefined ? html`<${TopicsPage} />` : html`<${TopicPage} topic=${name} />`;
  if (section === 'groups') return name === undefined ? html`<${GroupsPage} />` : html`<${GroupPage} group=${name} />`;
  if (section === undefined) return html`<${OverviewPage} />`;
  return html`<h1>Not found</h1><p>The console has no page <code>${route.join('/')}</code>. <a href="#/">Go to the overview</a>.</p>`;
}

function App() {
  const route = useRoute();
  // A new token re-mounts the page, so everything is loaded again with it.
  const [tokenGeneration, setTokenGeneration] = useState(0);
  const section = route[0] ?? '';
  useEffect(() => {
    const label = PAGES.find((p) => p.path === section)?.label ?? 'Not found';
    document.title = `${label} · Rill console`;
  }, [section]);
  return html`
    <a class="skip" href="#main">Skip to content</a>
    <header>
      <span class="brand">Rill</span>
      <nav aria-label="Console pages">
        <ul>
          ${PAGES.map((p) => html`<li><a href=${`#/${p.path}`} aria-current=${p.path === section ? 'page' : undefined}>${p.label}</a></li>`)}
        </ul>
      </nav>
      <${TokenForm} onChange=${() => setTokenGeneration((g) => g + 1)} />
    </header>
    <main id="main" tabindex="-1" key=${`${route.join('/')}#${tokenGeneration}`}>
      <${Page} route=${route} />
    </main>
  `;
}

const root = document.getElementById('app');
if (root === null) throw new Error('invariant broken: index.html has no #app element');
render(html`<${App} />`, root);
