import { html } from 'htm/preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { ApiError, enc, readEvents, type ConsoleRecord } from './api.ts';
import { ErrorMessage, asApiError, formatTime } from './ui.ts';

/** Records kept on screen; older ones scroll away. */
const MAX_TAILED = 100;

/** Follows a partition's new records as they are appended (the API's server-sent-event stream). */
export function LiveTail({ topic, partitions }: { topic: string; partitions: number }) {
  const [partition, setPartition] = useState('0');
  const [following, setFollowing] = useState(false);
  const [open, setOpen] = useState(false);
  const [records, setRecords] = useState<ConsoleRecord[]>([]);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const abort = useRef<AbortController | null>(null);

  const stop = () => {
    abort.current?.abort();
    abort.current = null;
    setFollowing(false);
    setOpen(false);
  };
  useEffect(() => stop, []);

  const start = () => {
    stop();
    const controller = new AbortController();
    abort.current = controller;
    setRecords([]);
    setError(undefined);
    setFollowing(true);
    const ended = () => {
      setFollowing(false);
      setOpen(false);
    };
    readEvents(
      `/v1/topics/${enc(topic)}/partitions/${partition}/stream`,
      controller.signal,
      () => setOpen(true),
      (event, data) => {
        if (event === 'record') setRecords((r) => [JSON.parse(data) as ConsoleRecord, ...r].slice(0, MAX_TAILED));
        if (event === 'error') setError(new ApiError(0, `The tail stopped: ${(JSON.parse(data) as { detail?: string }).detail ?? data}`));
      },
    ).then(
      () => controller.signal.aborted || ended(),
      (e: unknown) => {
        if (controller.signal.aborted) return;
        setError(asApiError(e));
        ended();
      },
    );
  };

  return html`
    <section aria-labelledby="tail-heading">
      <h2 id="tail-heading">Live tail</h2>
      <div class="row">
        <label>Partition
          <select name="tail-partition" value=${partition} disabled=${following} onChange=${(e: Event) => setPartition((e.target as HTMLSelectElement).value)}>
            ${Array.from({ length: partitions }, (_, i) => html`<option value=${String(i)}>${i}</option>`)}
          </select>
        </label>
        ${following ? html`<button type="button" onClick=${stop}>Stop tail</button>` : html`<button type="button" onClick=${start}>Start tail</button>`}
      </div>
      <${ErrorMessage} error=${error} />
      ${open && html`<p class="muted" role="status">Following new records of partition ${partition}…</p>`}
      <ol class="records" aria-label="Tailed records" aria-live="polite">
        ${records.map(
          (r) => html`<li key=${r.offset} class="record tailed" data-offset=${r.offset}>
            <div class="record-meta">offset <strong>${r.offset}</strong> · ${formatTime(r.timestamp)} · key <code>${r.key ?? '(null)'}</code></div>
            <pre class="record-value">${typeof r.value === 'string' ? r.value : JSON.stringify(r.value)}</pre>
          </li>`,
        )}
      </ol>
    </section>
  `;
}
