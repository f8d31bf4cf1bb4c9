import { html } from 'htm/preact';
import { enc } from './api.ts';
import { ErrorMessage, formatTime, useApi } from './ui.ts';

interface SchemaVersion {
  version: number;
  schema: unknown;
  createdMs: number;
}

/** The topic's JSON Schema versions (produce requests are validated against the latest). */
export function SchemaVersions({ topic }: { topic: string }) {
  const { data, error } = useApi<{ versions: SchemaVersion[] }>(`/v1/topics/${enc(topic)}/schemas`);
  return html`
    <section aria-labelledby="schemas-heading">
      <h2 id="schemas-heading">Schemas</h2>
      <${ErrorMessage} error=${error} />
      ${data !== undefined &&
      (data.versions.length === 0
        ? html`<p>No schema: records are not validated.</p>`
        : html`<ol class="records" aria-label="Schema versions" reversed>
            ${[...data.versions].reverse().map(
              (v) => html`<li key=${v.version} class="record">
                <div class="record-meta">version <strong>${v.version}</strong> · ${formatTime(v.createdMs)}</div>
                <pre class="record-value">${JSON.stringify(v.schema, null, 2)}</pre>
              </li>`,
            )}
          </ol>`)}
    </section>
  `;
}
