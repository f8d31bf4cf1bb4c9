import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { enc, type TopicDescription } from './api.ts';
import { ConfigEditor } from './config-editor.ts';
import { LiveTail } from './live-tail.ts';
import { ProduceForm } from './produce-form.ts';
import { RecordBrowser } from './record-browser.ts';
import { SchemaVersions } from './schema-versions.ts';
import { ErrorMessage, Loading, formatBytes, useApi } from './ui.ts';

/** The topics the token may see, filtered by a search field. */
export function TopicsPage() {
  const { data, error } = useApi<{ topics: string[] }>('/v1/topics');
  const [search, setSearch] = useState('');
  const shown = (data?.topics ?? []).filter((t) => t.toLowerCase().includes(search.toLowerCase()));
  return html`
    <h1>Topics</h1>
    <label for="topic-search">Search topics</label>
    <input id="topic-search" type="search" value=${search} onInput=${(e: Event) => setSearch((e.target as HTMLInputElement).value)} />
    <${ErrorMessage} error=${error} />
    ${data === undefined
      ? error === undefined && html`<${Loading} />`
      : html`
          <p class="muted" aria-live="polite">${shown.length} of ${data.topics.length} topics</p>
          <ul class="list">
            ${shown.map((t) => html`<li key=${t}><a href=${`#/topics/${enc(t)}`}>${t}</a></li>`)}
          </ul>
        `}
  `;
}

/** One topic: partitions with offsets and sizes, configs, the record browser and the produce form. */
export function TopicPage({ topic }: { topic: string }) {
  const { data, error, reload } = useApi<TopicDescription>(`/v1/topics/${enc(topic)}`);
  return html`
    <p><a href="#/topics">← Topics</a></p>
    <h1>Topic <code>${topic}</code></h1>
    <${ErrorMessage} error=${error} />
    ${data === undefined
      ? error === undefined && html`<${Loading} />`
      : html`
          <section aria-labelledby="partitions-heading">
            <h2 id="partitions-heading">Partitions</h2>
            <div class="scroll" tabindex="0">
              <table>
                <caption class="visually-hidden">Partitions of ${topic}</caption>
                <thead><tr><th scope="col">Partition</th><th scope="col">Log start offset</th><th scope="col">High watermark</th><th scope="col">Log end offset</th><th scope="col">Size</th><th scope="col">State</th></tr></thead>
                <tbody>
                  ${data.partitions.map(
                    (p) => html`<tr key=${p.partition}><td>${p.partition}</td><td>${p.logStartOffset}</td><td>${p.highWatermark}</td><td>${p.logEndOffset}</td><td>${formatBytes(p.sizeBytes)}</td><td>${p.offline ? 'offline' : 'online'}</td></tr>`,
                  )}
                </tbody>
              </table>
            </div>
            <button type="button" onClick=${reload}>Refresh offsets</button>
          </section>
          <${RecordBrowser} topic=${topic} partitions=${data.partitions.length} />
          <${LiveTail} topic=${topic} partitions=${data.partitions.length} />
          <${ProduceForm} topic=${topic} partitions=${data.partitions.length} onProduced=${reload} />
          <${SchemaVersions} topic=${topic} />
          <section aria-labelledby="configs-heading">
            <h2 id="configs-heading">Configs</h2>
            <div class="scroll" tabindex="0">
              <table>
                <caption class="visually-hidden">Configs of ${topic}</caption>
                <thead><tr><th scope="col">Name</th><th scope="col">Value</th><th scope="col">Source</th></tr></thead>
                <tbody>
                  ${data.configs.map((c) => html`<tr key=${c.name}><td><code>${c.name}</code></td><td>${c.value}</td><td>${c.isDefault ? 'default' : 'topic override'}</td></tr>`)}
                </tbody>
              </table>
            </div>
            <${ConfigEditor} topic=${topic} configs=${data.configs} onChanged=${reload} />
          </section>
        `}
  `;
}
