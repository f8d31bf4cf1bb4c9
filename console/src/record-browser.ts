import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, enc, type ApiError } from './api.ts';
import { ErrorMessage, asApiError, formatTime } from './ui.ts';
import { RENDERINGS, type RawRecord, type Rendering, bytesAsText, renderValue } from './value-rendering.ts';

const MAX_LIMIT = 100;

/** Reads a page of records from a partition, from an offset or the first record at or after a time, shown as JSON, text, MessagePack or hex. */
export function RecordBrowser({ topic, partitions }: { topic: string; partitions: number }) {
  const [partition, setPartition] = useState('0');
  const [from, setFrom] = useState<'offset' | 'time'>('offset');
  const [offset, setOffset] = useState('0');
  const [limit, setLimit] = useState('20');
  const [rendering, setRendering] = useState<Rendering>('json');
  const [result, setResult] = useState<{ records: RawRecord[]; nextOffset: number; highWatermark: number } | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [invalid, setInvalid] = useState<string | undefined>(undefined);

  const read = async (e: Event) => {
    e.preventDefault();
    let start: string;
    if (from === 'offset') {
      if (!/^\d+$/.test(offset)) return setInvalid('The offset must be a whole number, 0 or more.');
      start = `offset=${offset}`;
    } else {
      const ms = Date.parse(offset);
      if (Number.isNaN(ms) || ms < 0) return setInvalid('Give a date and time, e.g. 2026-01-31T12:00:00Z.');
      start = `timestamp=${ms}`;
    }
    if (!/^\d+$/.test(limit) || Number(limit) < 1 || Number(limit) > MAX_LIMIT) return setInvalid(`Show 1 to ${MAX_LIMIT} records.`);
    setInvalid(undefined);
    try {
      // MessagePack, so the browser holds the stored bytes and renders them any way the reader picks.
      setResult(await api(`/v1/topics/${enc(topic)}/partitions/${partition}/records?${start}&limit=${limit}`, {}, 'msgpack'));
      setError(undefined);
    } catch (err) {
      setError(asApiError(err));
    }
  };

  return html`
    <section aria-labelledby="browser-heading">
      <h2 id="browser-heading">Records</h2>
      <form class="row" onSubmit=${read} aria-describedby=${invalid === undefined ? undefined : 'browser-invalid'}>
        <label>Partition
          <select name="partition" value=${partition} onChange=${(e: Event) => setPartition((e.target as HTMLSelectElement).value)}>
            ${Array.from({ length: partitions }, (_, i) => html`<option value=${String(i)}>${i}</option>`)}
          </select>
        </label>
        <label>Start at
          <select name="from" value=${from} onChange=${(e: Event) => setFrom((e.target as HTMLSelectElement).value as 'offset' | 'time')}>
            <option value="offset">an offset</option>
            <option value="time">a time</option>
          </select>
        </label>
        <label>${from === 'offset' ? 'Offset' : 'Time (ISO 8601)'} <input name="offset" inputmode=${from === 'offset' ? 'numeric' : 'text'} value=${offset} onInput=${(e: Event) => setOffset((e.target as HTMLInputElement).value)} /></label>
        <label>Count <input name="limit" inputmode="numeric" value=${limit} onInput=${(e: Event) => setLimit((e.target as HTMLInputElement).value)} /></label>
        <label>Show as
          <select name="rendering" value=${rendering} onChange=${(e: Event) => setRendering((e.target as HTMLSelectElement).value as Rendering)}>
            ${Object.entries(RENDERINGS).map(([value, label]) => html`<option value=${value}>${label}</option>`)}
          </select>
        </label>
        <button type="submit">Read records</button>
      </form>
      ${invalid !== undefined && html`<p id="browser-invalid" class="error" role="alert">${invalid}</p>`}
      <${ErrorMessage} error=${error} />
      ${result !== undefined &&
      html`
        <p class="muted" aria-live="polite">${result.records.length} records; next offset ${result.nextOffset}, high watermark ${result.highWatermark}</p>
        <ol class="records" aria-label="Records">
          ${result.records.map(
            (r) => html`<li key=${r.offset} class="record" data-offset=${r.offset}>
              <div class="record-meta">offset <strong>${r.offset}</strong> · ${formatTime(r.timestamp)} · key <code>${r.key === null ? '(null)' : bytesAsText(r.key)}</code></div>
              <pre class="record-value">${renderValue(r.value, rendering)}</pre>
            </li>`,
          )}
        </ol>
      `}
    </section>
  `;
}
