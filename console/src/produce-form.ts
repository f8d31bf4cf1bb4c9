import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, enc, type ApiError } from './api.ts';
import { ErrorMessage, asApiError } from './ui.ts';

interface Produced {
  records: { partition: number; offset: number }[];
}

/** Produces one record; the value is sent as JSON when it parses as JSON (or must, when asked), else as text. */
export function ProduceForm({ topic, partitions, onProduced }: { topic: string; partitions: number; onProduced: () => void }) {
  const [key, setKey] = useState('');
  const [value, setValue] = useState('');
  const [partition, setPartition] = useState('');
  const [asJson, setAsJson] = useState(true);
  const [invalid, setInvalid] = useState<string[]>([]);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);

  const submit = async (e: Event) => {
    e.preventDefault();
    const problems: string[] = [];
    let parsed: unknown = value;
    if (asJson) {
      try {
        parsed = JSON.parse(value);
      } catch (err) {
        problems.push(`The value is not valid JSON: ${(err as Error).message}`);
      }
    }
    if (partition !== '' && !(/^\d+$/.test(partition) && Number(partition) < partitions)) {
      problems.push(`The partition must be empty (the broker picks one) or 0 to ${partitions - 1}.`);
    }
    setInvalid(problems);
    setDone(undefined);
    if (problems.length > 0) return;
    const record: Record<string, unknown> = { value: parsed };
    if (key !== '') record['key'] = key;
    if (partition !== '') record['partition'] = Number(partition);
    try {
      const result = await api<Produced>(`/v1/topics/${enc(topic)}/records`, { method: 'POST', body: { records: [record] } });
      const at = result.records[0];
      setError(undefined);
      setDone(at === undefined ? 'Produced.' : `Produced to partition ${at.partition} at offset ${at.offset}.`);
      onProduced();
    } catch (err) {
      setError(asApiError(err));
    }
  };

  return html`
    <section aria-labelledby="produce-heading">
      <h2 id="produce-heading">Produce a record</h2>
      <form class="stack" onSubmit=${submit} noValidate>
        <label>Key (optional) <input name="key" value=${key} onInput=${(e: Event) => setKey((e.target as HTMLInputElement).value)} /></label>
        <label>Value <textarea name="value" rows="4" aria-invalid=${invalid.length > 0} aria-describedby="produce-problems" value=${value} onInput=${(e: Event) => setValue((e.target as HTMLTextAreaElement).value)}></textarea></label>
        <label class="inline"><input type="checkbox" name="json" checked=${asJson} onChange=${(e: Event) => setAsJson((e.target as HTMLInputElement).checked)} /> The value is JSON</label>
        <label>Partition (optional) <input name="partition" inputmode="numeric" value=${partition} onInput=${(e: Event) => setPartition((e.target as HTMLInputElement).value)} /></label>
        <button type="submit">Produce</button>
      </form>
      <div id="produce-problems">
        ${invalid.map((p) => html`<p class="error" role="alert">${p}</p>`)}
      </div>
      <${ErrorMessage} error=${error} />
      ${error !== undefined && error.fieldErrors.length > 0 && html`<ul class="error">${error.fieldErrors.map((f) => html`<li><code>${f.path}</code> ${f.message}</li>`)}</ul>`}
      ${done !== undefined && html`<p class="ok" role="status">${done}</p>`}
    </section>
  `;
}
