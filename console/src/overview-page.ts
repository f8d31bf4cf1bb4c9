import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, type ApiError, type BrokerSummary } from './api.ts';
import { CleanerPanel } from './cleaner-panel.ts';
import { MAX_POINTS, LiveChart } from './live-chart.ts';
import { ErrorMessage, Loading, asApiError, formatBytes } from './ui.ts';

const POLL_MS = 2000;

interface Rates {
  times: number[];
  recordsIn: number[];
  httpRecordsIn: number[];
  httpRecordsOut: number[];
  httpBytesIn: number[];
  httpBytesOut: number[];
  kafkaBytesIn: number[];
  kafkaBytesOut: number[];
}

const emptyRates = (): Rates => ({ times: [], recordsIn: [], httpRecordsIn: [], httpRecordsOut: [], httpBytesIn: [], httpBytesOut: [], kafkaBytesIn: [], kafkaBytesOut: [] });

function appendRates(rates: Rates, previous: BrokerSummary, next: BrokerSummary): Rates {
  const seconds = (next.timeMs - previous.timeMs) / 1000;
  if (seconds <= 0) return rates;
  // A total that went down (a topic deleted) is a restart of the count, not a negative rate.
  const rate = (a: number, b: number) => Math.max(0, b - a) / seconds;
  const push = (values: number[], value: number) => [...values, value].slice(-MAX_POINTS);
  return {
    times: push(rates.times, next.timeMs / 1000),
    recordsIn: push(rates.recordsIn, rate(previous.recordsAppended, next.recordsAppended)),
    httpRecordsIn: push(rates.httpRecordsIn, rate(previous.httpProducedRecords, next.httpProducedRecords)),
    httpRecordsOut: push(rates.httpRecordsOut, rate(previous.httpFetchedRecords, next.httpFetchedRecords)),
    httpBytesIn: push(rates.httpBytesIn, rate(previous.httpProducedBytes, next.httpProducedBytes)),
    httpBytesOut: push(rates.httpBytesOut, rate(previous.httpFetchedBytes, next.httpFetchedBytes)),
    kafkaBytesIn: push(rates.kafkaBytesIn, rate(previous.kafka?.receivedBytes ?? 0, next.kafka?.receivedBytes ?? 0)),
    kafkaBytesOut: push(rates.kafkaBytesOut, rate(previous.kafka?.sentBytes ?? 0, next.kafka?.sentBytes ?? 0)),
  };
}

/** The latest of a series of byte rates, or a dash before two samples make one. */
function byteRate(values: readonly number[]): string {
  const latest = values[values.length - 1];
  return latest === undefined ? '—' : `${formatBytes(latest)}/s`;
}

/** Broker health and running totals, polled from `/readyz` and `/v1/summary`, with live rate charts. */
export function OverviewPage() {
  const [summary, setSummary] = useState<BrokerSummary | undefined>(undefined);
  const [ready, setReady] = useState<string>('checking…');
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [rates, setRates] = useState<Rates>(emptyRates);

  useEffect(() => {
    let previous: BrokerSummary | undefined;
    let stopped = false;
    const poll = async () => {
      try {
        const next = await api<BrokerSummary>('/v1/summary');
        if (stopped) return;
        if (previous !== undefined) {
          const before = previous;
          setRates((r) => appendRates(r, before, next));
        }
        previous = next;
        setSummary(next);
        setError(undefined);
      } catch (e) {
        if (!stopped) setError(asApiError(e));
      }
      try {
        await api('/readyz');
        if (!stopped) setReady('ready');
      } catch (e) {
        if (!stopped) setReady(`not ready: ${asApiError(e).message}`);
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, []);

  return html`
    <h1>Overview</h1>
    <${ErrorMessage} error=${error} />
    ${summary === undefined && error === undefined
      ? html`<${Loading} />`
      : summary !== undefined &&
        html`
          <dl class="stats">
            <div><dt>Health</dt><dd data-testid="health">${ready}</dd></div>
            <div><dt>Topics</dt><dd data-testid="topic-count">${summary.topics}</dd></div>
            <div><dt>Partitions</dt><dd>${summary.partitions}${summary.offlinePartitions > 0 ? ` (${summary.offlinePartitions} offline)` : ''}</dd></div>
            <div><dt>Consumer groups</dt><dd>${summary.groups}</dd></div>
            <div><dt>Records appended</dt><dd>${summary.recordsAppended}</dd></div>
            <div><dt>Disk use</dt><dd>${formatBytes(summary.sizeBytes)}</dd></div>
            <div><dt>HTTP in / out</dt><dd>${byteRate(rates.httpBytesIn)} / ${byteRate(rates.httpBytesOut)}</dd></div>
            <div>
              <dt>Kafka in / out</dt>
              <dd>${summary.kafka === null
                ? html`<span class="muted" data-testid="kafka-bytes">no listener</span>`
                : html`<span data-testid="kafka-bytes-in">${byteRate(rates.kafkaBytesIn)}</span> / <span data-testid="kafka-bytes-out">${byteRate(rates.kafkaBytesOut)}</span>`}</dd>
            </div>
          </dl>
          <div class="charts">
            <${LiveChart}
              title="Records per second"
              unit="records/s"
              times=${rates.times}
              series=${[
                { label: 'appended (all protocols)', values: rates.recordsIn, color: '#1f5fa8' },
                { label: 'HTTP produced', values: rates.httpRecordsIn, color: '#2e7d32' },
                { label: 'HTTP fetched', values: rates.httpRecordsOut, color: '#b3541e' },
              ]}
            />
            <${LiveChart}
              title="HTTP bytes per second"
              unit="bytes/s"
              times=${rates.times}
              series=${[
                { label: 'in', values: rates.httpBytesIn, color: '#2e7d32' },
                { label: 'out', values: rates.httpBytesOut, color: '#b3541e' },
              ]}
            />
            ${summary.kafka !== null &&
            html`<${LiveChart}
              title="Kafka bytes per second"
              unit="bytes/s"
              times=${rates.times}
              series=${[
                { label: 'in', values: rates.kafkaBytesIn, color: '#2e7d32' },
                { label: 'out', values: rates.kafkaBytesOut, color: '#b3541e' },
              ]}
            />`}
          </div>
          <p class="muted">
            Rates are sampled every ${POLL_MS / 1000} s from <code>/v1/summary</code>. HTTP bytes are record batches produced and read;
            Kafka bytes are everything the Kafka listener received and sent (requests, responses and their headers).
          </p>
          <${CleanerPanel} cleaner=${summary.cleaner} />
        `}
  `;
}
