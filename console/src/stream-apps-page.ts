import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { type ApiError, api, enc } from './api.ts';
import { LiveChart, MAX_POINTS } from './live-chart.ts';
import { type GraphTopology, TopologyGraph } from './topology-graph.ts';
import { ErrorMessage, Loading, asApiError, formatTime, useApi } from './ui.ts';

const POLL_MS = 2000;

interface Totals {
  running: number;
  stale: number;
  commitsPerSecond: number;
  recordsDeadLettered: number;
  lateRecordsDropped: number;
  restoreRemaining: number;
  lastHeartbeatMs: number | null;
}

interface AppListing extends Totals {
  applicationId: string;
  states: string[];
  groupState: string | null;
  totalLag: number | null;
}

interface Task {
  taskId: string;
  state: string;
  recordsProcessed: number;
  lag: number;
  restoredRecords: number;
  restoreRemaining: number;
  lateRecordsDropped: number;
}

interface Instance {
  instanceId: string;
  stale: boolean;
  state: string;
  endpoint: string | null;
  runtime: string;
  guarantee: string;
  startedMs: number;
  lastHeartbeatMs: number;
  tasks: Task[];
  tasksOmitted: number;
  metrics: { recordsIn: number; recordsOut: number; recordsDeadLettered: number; recordsSkipped: number; lateRecordsDropped: number; commits: number; commitsPerSecond: number };
}

interface AppDetail extends Totals {
  applicationId: string;
  statusTopic: string;
  group: { state: string; members: number; offsets: { topic: string; partition: number; committedOffset: number; highWatermark: number; lag: number }[]; totalLag: number } | null;
  deadLetterTopic: string;
  instances: Instance[];
  topology: GraphTopology | null;
}

function instancesText(a: Totals): string {
  const running = `${a.running} running`;
  return a.stale === 0 ? running : `${running}, ${a.stale} stale`;
}

/** The streams applications whose status the token may see. */
export function StreamAppsPage() {
  const { data, error } = useApi<{ applications: AppListing[] }>('/v1/stream-apps');
  return html`
    <h1>Stream jobs</h1>
    <p class="muted">Applications of the streams runtime publish their status to <code>&lt;applicationId&gt;-streams-status</code>; an instance silent for three of its intervals is stale.</p>
    <${ErrorMessage} error=${error} />
    ${data === undefined
      ? error === undefined && html`<${Loading} />`
      : data.applications.length === 0
        ? html`<p>No stream jobs have published a status.</p>`
        : html`<div class="scroll" tabindex="0"><table>
            <caption class="visually-hidden">Stream jobs</caption>
            <thead><tr><th scope="col">Application</th><th scope="col">Instances</th><th scope="col">State</th><th scope="col">Lag</th><th scope="col">Commits/s</th><th scope="col">Dead-lettered</th><th scope="col">Late drops</th><th scope="col">Last heartbeat</th></tr></thead>
            <tbody>${data.applications.map(
              (a) => html`<tr key=${a.applicationId}>
                <td><a href=${`#/jobs/${enc(a.applicationId)}`}>${a.applicationId}</a></td>
                <td class=${a.stale > 0 ? 'warn' : ''}>${instancesText(a)}</td>
                <td>${a.states.join(', ') || (a.stale > 0 ? 'not heartbeating' : 'stopped')}</td>
                <td>${a.totalLag ?? '—'}</td>
                <td>${a.commitsPerSecond}</td>
                <td>${a.recordsDeadLettered}</td>
                <td>${a.lateRecordsDropped}</td>
                <td>${a.lastHeartbeatMs === null ? '—' : formatTime(a.lastHeartbeatMs)}</td>
              </tr>`,
            )}</tbody>
          </table></div>`}
  `;
}

/** Polls the application every 2 s, keeping its commit rate and lag as chart series. */
function usePolledApp(applicationId: string) {
  const [data, setData] = useState<AppDetail | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [history, setHistory] = useState<{ times: number[]; commits: number[]; lags: number[] }>({ times: [], commits: [], lags: [] });
  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      try {
        const detail = await api<AppDetail>(`/v1/stream-apps/${enc(applicationId)}`);
        if (stopped) return;
        setData(detail);
        setError(undefined);
        const timeS = Date.now() / 1000;
        setHistory((h) => ({
          times: [...h.times, timeS].slice(-MAX_POINTS),
          commits: [...h.commits, detail.commitsPerSecond].slice(-MAX_POINTS),
          lags: [...h.lags, detail.group?.totalLag ?? 0].slice(-MAX_POINTS),
        }));
      } catch (e) {
        if (!stopped) setError(asApiError(e));
      }
    };
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [applicationId]);
  return { data, error, history };
}

function TaskTable({ instance }: { instance: Instance }) {
  if (instance.tasks.length === 0) return html`<p>No tasks assigned.</p>`;
  return html`<div class="scroll" tabindex="0"><table>
    <caption class="visually-hidden">Tasks of instance ${instance.instanceId}</caption>
    <thead><tr><th scope="col">Task</th><th scope="col">State</th><th scope="col">Processed</th><th scope="col">Lag</th><th scope="col">Restore</th><th scope="col">Late drops</th></tr></thead>
    <tbody>${instance.tasks.map((t) => {
      const total = t.restoredRecords + t.restoreRemaining;
      return html`<tr key=${t.taskId} data-task=${t.taskId}>
        <td>${t.taskId}</td>
        <td class="task-state">${t.state}</td>
        <td>${t.recordsProcessed}</td>
        <td>${t.lag}</td>
        <td>${total === 0
          ? '—'
          : html`<label class="inline"><progress max=${total} value=${t.restoredRecords} aria-label=${`Restore of task ${t.taskId}`}></progress> ${t.restoredRecords} / ${total}</label>`}</td>
        <td>${t.lateRecordsDropped}</td>
      </tr>`;
    })}</tbody>
  </table></div>
  ${instance.tasksOmitted > 0 && html`<p class="muted">${instance.tasksOmitted} more tasks not listed.</p>`}`;
}

/** One application: instances, tasks, restore progress, its figures over time, its topology, and the reset. */
export function StreamAppPage({ applicationId }: { applicationId: string }) {
  const { data, error, history } = usePolledApp(applicationId);
  return html`
    <p><a href="#/jobs">← Stream jobs</a></p>
    <h1>Stream job <code>${applicationId}</code></h1>
    <${ErrorMessage} error=${error} />
    ${data === undefined
      ? error === undefined && html`<${Loading} />`
      : html`
          <dl class="stats">
            <div><dt>Instances</dt><dd data-testid="instances">${instancesText(data)}</dd></div>
            <div><dt>Group</dt><dd>${data.group?.state ?? 'none'}</dd></div>
            <div><dt>Total lag</dt><dd data-testid="app-lag">${data.group?.totalLag ?? '—'}</dd></div>
            <div><dt>Commits/s</dt><dd>${data.commitsPerSecond}</dd></div>
            <div><dt>Dead-lettered</dt><dd data-testid="dead-lettered">${data.recordsDeadLettered}</dd></div>
            <div><dt>Late drops</dt><dd data-testid="late-drops">${data.lateRecordsDropped}</dd></div>
            <div><dt>Restore left</dt><dd>${data.restoreRemaining}</dd></div>
          </dl>
          <p class="muted">Dead letters go to <a href=${`#/topics/${enc(data.deadLetterTopic)}`}><code>${data.deadLetterTopic}</code></a>; status from <code>${data.statusTopic}</code>.</p>
          <div class="charts">
            <${LiveChart} title="Commit rate" unit="commits/s" times=${history.times} series=${[{ label: 'commits/s', values: history.commits, color: '#0b57a4' }]} />
            <${LiveChart} title="Total lag" unit="records" times=${history.times} series=${[{ label: 'lag', values: history.lags, color: '#b3541e' }]} />
          </div>
          <section aria-labelledby="topology-heading">
            <h2 id="topology-heading">Topology</h2>
            ${data.topology === null
              ? html`<p>No instance published its topology.</p>`
              : html`<${TopologyGraph} topology=${data.topology} />
                  ${data.topology.text !== null && html`<details><summary>Topology description</summary><pre class="describe">${data.topology.text}</pre></details>`}`}
          </section>
          <section aria-labelledby="instances-heading">
            <h2 id="instances-heading">Instances and tasks</h2>
            ${data.instances.length === 0 && html`<p>No instance is running (a cleanly stopped instance removes its status).</p>`}
            ${data.instances.map(
              (i) => html`<article class="instance" key=${i.instanceId} aria-labelledby=${`instance-${i.instanceId}`}>
                <h3 id=${`instance-${i.instanceId}`}>Instance <code>${i.instanceId}</code> <span class=${i.stale ? 'badge stale' : 'badge live'}>${i.stale ? 'stale' : i.state}</span></h3>
                <p class="muted">${i.runtime}, ${i.guarantee}${i.endpoint === null ? '' : `, serving queries at ${i.endpoint}`}; started ${formatTime(i.startedMs)}, last heartbeat ${formatTime(i.lastHeartbeatMs)}${i.stale ? ` (last state ${i.state})` : ''}. In ${i.metrics.recordsIn}, out ${i.metrics.recordsOut}, commits ${i.metrics.commits}, skipped ${i.metrics.recordsSkipped}.</p>
                <${TaskTable} instance=${i} />
              </article>`,
            )}
          </section>
          ${data.group !== null &&
          html`<section aria-labelledby="app-offsets-heading">
            <h2 id="app-offsets-heading">Offsets and lag</h2>
            <div class="scroll" tabindex="0"><table>
              <caption class="visually-hidden">Committed offsets of ${applicationId}</caption>
              <thead><tr><th scope="col">Topic</th><th scope="col">Partition</th><th scope="col">Committed offset</th><th scope="col">High watermark</th><th scope="col">Lag</th></tr></thead>
              <tbody>${data.group.offsets.map((o) => html`<tr key=${`${o.topic}-${o.partition}`}><td>${o.topic}</td><td>${o.partition}</td><td>${o.committedOffset}</td><td>${o.highWatermark}</td><td>${o.lag}</td></tr>`)}</tbody>
            </table></div>
            <p><a href=${`#/groups/${enc(applicationId)}`}>The application's consumer group</a></p>
          </section>`}
          <${AppReset} applicationId=${applicationId} />
          <${TopicReplay} topics=${[...new Set((data.group?.offsets ?? []).map((o) => o.topic).filter((t) => !t.startsWith(`${applicationId}-`)))]} />
        `}
  `;
}

type ResetTo = 'earliest' | 'latest' | 'time';

/**
 * The application reset (`POST /v1/streams/applications/{id}/reset`): a dry run shows the plan
 * first, only confirming it moves the offsets and clears the internal topics. The broker refuses
 * while instances are running.
 */
function AppReset({ applicationId }: { applicationId: string }) {
  const [to, setTo] = useState<ResetTo>('earliest');
  const [time, setTime] = useState('');
  const [internalTopics, setInternalTopics] = useState<'delete' | 'truncate'>('delete');
  const [plan, setPlan] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [invalid, setInvalid] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);

  const run = async (dryRun: boolean) => {
    setDone(undefined);
    setInvalid(undefined);
    let target: unknown = to;
    if (to === 'time') {
      const ms = Date.parse(time);
      if (Number.isNaN(ms)) return setInvalid('Give a date and time, e.g. 2026-01-31T12:00:00Z.');
      target = { timestampMs: ms };
    }
    try {
      const answer = await api<{ text: string }>(`/v1/streams/applications/${enc(applicationId)}/reset`, { method: 'POST', body: { to: target, internalTopics, dryRun } });
      setError(undefined);
      if (dryRun) setPlan(answer.text);
      else {
        setPlan(undefined);
        setDone(`Reset ${applicationId}. Wipe each instance's local state (rill streams reset --state-dir) before restarting it.`);
      }
    } catch (e) {
      setError(asApiError(e));
    }
  };
  const change = (set: (v: string) => void) => (e: Event) => {
    set((e.target as HTMLInputElement).value);
    setPlan(undefined);
  };

  return html`
    <section aria-labelledby="app-reset-heading">
      <h2 id="app-reset-heading">Reset for reprocessing</h2>
      <p class="muted">Stop every instance first. The reset moves the input offsets and clears the internal topics; preview it, nothing changes until you confirm. To copy a range of an input into another topic instead, use the replay below.</p>
      <form class="row" onSubmit=${(e: Event) => (e.preventDefault(), void run(true))}>
        <label>Inputs to
          <select name="reset-to" value=${to} onChange=${change((v) => setTo(v as ResetTo))}>
            <option value="earliest">earliest</option>
            <option value="latest">latest</option>
            <option value="time">a time</option>
          </select>
        </label>
        ${to === 'time' && html`<label>Time (ISO 8601) <input name="reset-time" value=${time} onInput=${change(setTime)} /></label>`}
        <label>Internal topics
          <select name="internal-topics" value=${internalTopics} onChange=${change((v) => setInternalTopics(v as 'delete' | 'truncate'))}>
            <option value="delete">delete</option>
            <option value="truncate">truncate</option>
          </select>
        </label>
        <button type="submit">Preview application reset</button>
      </form>
      ${invalid !== undefined && html`<p class="error" role="alert">${invalid}</p>`}
      <${ErrorMessage} error=${error} />
      ${plan !== undefined &&
      html`<div class="preview" role="region" aria-label="Application reset preview">
        <p>Dry run: the reset would do this:</p>
        <pre class="describe">${plan}</pre>
        <button type="button" class="danger" onClick=${() => void run(false)}>Confirm application reset</button>
        <button type="button" onClick=${() => setPlan(undefined)}>Cancel</button>
      </div>`}
      ${done !== undefined && html`<p class="ok" role="status">${done}</p>`}
    </section>
  `;
}

/**
 * The topic replay (`POST /v1/topics/{topic}/replay`): copies an input's records from a point to
 * its end into another topic, exactly once (a replay run again resumes, and copies nothing once
 * done). It writes to the target, so it asks for a confirmation first.
 */
function TopicReplay({ topics }: { topics: string[] }) {
  const [source, setSource] = useState(topics[0] ?? '');
  const [target, setTarget] = useState('');
  const [from, setFrom] = useState('');
  const [confirming, setConfirming] = useState(false);
  const [invalid, setInvalid] = useState<string | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);
  if (topics.length === 0) return null;

  const check = (): unknown => {
    setInvalid(undefined);
    if (target.trim() === '') return void setInvalid('Name the topic to copy into.');
    if (from.trim() === '') return 'earliest';
    const ms = Date.parse(from);
    if (Number.isNaN(ms)) return void setInvalid('Give a date and time, e.g. 2026-01-31T12:00:00Z, or leave it empty for the earliest record.');
    return { timestampMs: ms };
  };
  const replay = async () => {
    const start = check();
    if (start === undefined) return;
    try {
      const result = await api<{ copied: number; scannedOffsets: number; totalOffsets: number }>(`/v1/topics/${enc(source)}/replay`, { method: 'POST', body: { target: target.trim(), from: start } });
      setError(undefined);
      setConfirming(false);
      setDone(`Copied ${result.copied} records of ${source} into ${target.trim()} (${result.scannedOffsets} of ${result.totalOffsets} offsets scanned).`);
    } catch (e) {
      setConfirming(false);
      setError(asApiError(e));
    }
  };
  const change = (set: (v: string) => void) => (e: Event) => {
    set((e.target as HTMLInputElement).value);
    setConfirming(false);
    setDone(undefined);
  };

  return html`
    <section aria-labelledby="replay-heading">
      <h2 id="replay-heading">Replay an input</h2>
      <p class="muted">Copies the input's records from a time (or its start) to its end into another topic with as many partitions, exactly once; a replay run again resumes where it stopped.</p>
      <form class="row" onSubmit=${(e: Event) => (e.preventDefault(), check() !== undefined && setConfirming(true))}>
        <label>Input
          <select name="replay-source" value=${source} onChange=${change(setSource)}>
            ${topics.map((t) => html`<option value=${t}>${t}</option>`)}
          </select>
        </label>
        <label>Into topic <input name="replay-target" value=${target} onInput=${change(setTarget)} /></label>
        <label>From (ISO 8601, empty: earliest) <input name="replay-from" value=${from} onInput=${change(setFrom)} /></label>
        <button type="submit">Review replay</button>
      </form>
      ${invalid !== undefined && html`<p class="error" role="alert">${invalid}</p>`}
      <${ErrorMessage} error=${error} />
      ${confirming &&
      html`<div class="preview" role="region" aria-label="Replay confirmation">
        <p>Copy the records of <code>${source}</code> from ${from.trim() === '' ? 'the earliest' : from.trim()} to the end into <code>${target.trim()}</code>?</p>
        <button type="button" class="danger" onClick=${() => void replay()}>Confirm replay</button>
        <button type="button" onClick=${() => setConfirming(false)}>Cancel</button>
      </div>`}
      ${done !== undefined && html`<p class="ok" role="status">${done}</p>`}
    </section>
  `;
}
