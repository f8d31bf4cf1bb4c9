import { html } from 'htm/preact';
import { useState } from 'preact/hooks';
import { api, enc, type ApiError, type GroupDescription } from './api.ts';
import { assignmentText, memberLabel, partitionOwners } from './group-assignment.ts';
import { LagChart } from './lag-chart.ts';
import { ErrorMessage, Loading, asApiError, useApi } from './ui.ts';

/** The consumer groups the token may describe. */
export function GroupsPage() {
  const { data, error } = useApi<{ groups: { groupId: string; protocolType: string; groupState: string }[] }>('/v1/groups');
  return html`
    <h1>Consumer groups</h1>
    <${ErrorMessage} error=${error} />
    ${data === undefined
      ? error === undefined && html`<${Loading} />`
      : data.groups.length === 0
        ? html`<p>No consumer groups.</p>`
        : html`<div class="scroll" tabindex="0"><table>
            <caption class="visually-hidden">Consumer groups</caption>
            <thead><tr><th scope="col">Group</th><th scope="col">State</th><th scope="col">Protocol type</th></tr></thead>
            <tbody>${data.groups.map((g) => html`<tr key=${g.groupId}><td><a href=${`#/groups/${enc(g.groupId)}`}>${g.groupId}</a></td><td>${g.groupState}</td><td>${g.protocolType || '—'}</td></tr>`)}</tbody>
          </table></div>`}
  `;
}

/** One group: members, committed offsets and lag per partition, and the offset reset. */
export function GroupPage({ group }: { group: string }) {
  const { data, error, reload } = useApi<GroupDescription>(`/v1/groups/${enc(group)}`);
  const owners = partitionOwners(data?.members ?? []);
  return html`
    <p><a href="#/groups">← Consumer groups</a></p>
    <h1>Group <code>${group}</code></h1>
    <${ErrorMessage} error=${error} />
    ${data === undefined
      ? error === undefined && html`<${Loading} />`
      : html`
          <dl class="stats">
            <div><dt>State</dt><dd data-testid="group-state">${data.state}</dd></div>
            <div><dt>Generation</dt><dd>${data.generationId}</dd></div>
            <div><dt>Members</dt><dd>${data.members.length}</dd></div>
            <div><dt>Total lag</dt><dd data-testid="total-lag">${data.totalLag}</dd></div>
          </dl>
          <section aria-labelledby="members-heading">
            <h2 id="members-heading">Members</h2>
            ${data.members.length === 0
              ? html`<p>No members: the group is empty.</p>`
              : html`<div class="scroll" tabindex="0"><table>
                  <caption class="visually-hidden">Members of ${group}</caption>
                  <thead><tr><th scope="col">Member id</th><th scope="col">Client id</th><th scope="col">Host</th><th scope="col">Instance id</th><th scope="col">Assigned partitions</th></tr></thead>
                  <tbody>${data.members.map(
                    (m) => html`<tr key=${m.memberId} data-member=${m.memberId}><td><code>${m.memberId}</code></td><td>${m.clientId}</td><td>${m.clientHost}</td><td>${m.groupInstanceId ?? '—'}</td><td class="assignment">${assignmentText(m) ?? html`<span class="muted">Not shown: ${m.assignmentError}</span>`}</td></tr>`,
                  )}</tbody>
                </table></div>`}
          </section>
          <section aria-labelledby="lag-heading">
            <h2 id="lag-heading">Offsets and lag</h2>
            <div class="scroll" tabindex="0"><table>
              <caption class="visually-hidden">Committed offsets of ${group}</caption>
              <thead><tr><th scope="col">Topic</th><th scope="col">Partition</th><th scope="col">Committed offset</th><th scope="col">High watermark</th><th scope="col">Lag</th><th scope="col">Assigned to</th></tr></thead>
              <tbody>${data.offsets.map((o) => {
                const owner = owners.get(`${o.topic}-${o.partition}`);
                return html`<tr key=${`${o.topic}-${o.partition}`} data-partition=${`${o.topic}-${o.partition}`}><td>${o.topic}</td><td>${o.partition}</td><td class="committed">${o.committedOffset}</td><td>${o.highWatermark}</td><td>${o.lag}</td><td class="owner">${owner === undefined ? '—' : html`<span title=${owner.memberId}>${memberLabel(owner)}</span>`}</td></tr>`;
              })}</tbody>
            </table></div>
            <button type="button" onClick=${reload}>Refresh</button>
            <${LagChart} group=${group} />
          </section>
          <${OffsetReset} group=${group} topics=${[...new Set(data.offsets.map((o) => o.topic))]} onReset=${reload} />
        `}
  `;
}

type Target = 'earliest' | 'latest' | 'timestamp' | 'offset';

interface ResetAnswer {
  partitions: { partition: number; offset: number }[];
}

/** Offset reset: a dry run shows the new offsets first; only confirming it writes them. */
function OffsetReset({ group, topics, onReset }: { group: string; topics: string[]; onReset: () => void }) {
  const [topic, setTopic] = useState(topics[0] ?? '');
  const [target, setTarget] = useState<Target>('earliest');
  const [argument, setArgument] = useState('');
  const [preview, setPreview] = useState<ResetAnswer | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [invalid, setInvalid] = useState<string | undefined>(undefined);
  const [done, setDone] = useState<string | undefined>(undefined);

  /** The reset target as the API takes it, or undefined (with a message shown) when the form is not valid. */
  const resetTo = (): unknown => {
    setInvalid(undefined);
    if (topic === '') return void setInvalid('Choose a topic.');
    if (target === 'timestamp') {
      const ms = Date.parse(argument);
      if (Number.isNaN(ms)) return void setInvalid('Give a date and time, e.g. 2026-01-31T12:00:00Z.');
      return { timestamp: ms };
    }
    if (target === 'offset' && !/^\d+$/.test(argument)) return void setInvalid('The offset must be a whole number, 0 or more.');
    return target;
  };

  const reset = (to: unknown, dryRun: boolean) => api<ResetAnswer>(`/v1/groups/${enc(group)}/reset`, { method: 'POST', body: { topic, to, dryRun } });

  const run = async (dryRun: boolean) => {
    setDone(undefined);
    let to = resetTo();
    if (to === undefined) return;
    try {
      if (target === 'offset') {
        // One offset for every partition of the topic, learnt from a dry run (which writes nothing).
        const partitions = (await reset('earliest', true)).partitions;
        to = { offsets: Object.fromEntries(partitions.map((p) => [String(p.partition), Number(argument)])) };
      }
      const answer = await reset(to, dryRun);
      setError(undefined);
      if (dryRun) setPreview(answer);
      else {
        setPreview(undefined);
        setDone(`Reset ${answer.partitions.length} partitions of ${topic}.`);
        onReset();
      }
    } catch (e) {
      setError(asApiError(e));
    }
  };

  const change = (set: (v: string) => void) => (e: Event) => {
    set((e.target as HTMLInputElement).value);
    setPreview(undefined);
  };

  return html`
    <section aria-labelledby="reset-heading">
      <h2 id="reset-heading">Reset offsets</h2>
      <p class="muted">Only an empty group (no running consumers) can be reset. Preview first; nothing changes until you confirm.</p>
      <form class="row" onSubmit=${(e: Event) => (e.preventDefault(), void run(true))}>
        <label>Topic
          <select name="topic" value=${topic} onChange=${change(setTopic)}>
            ${topics.map((t) => html`<option value=${t}>${t}</option>`)}
          </select>
        </label>
        <label>To
          <select name="target" value=${target} onChange=${change((v) => setTarget(v as Target))}>
            <option value="earliest">earliest</option>
            <option value="latest">latest</option>
            <option value="timestamp">a time</option>
            <option value="offset">an offset</option>
          </select>
        </label>
        ${(target === 'timestamp' || target === 'offset') &&
        html`<label>${target === 'timestamp' ? 'Time (ISO 8601)' : 'Offset'} <input name="argument" value=${argument} onInput=${change(setArgument)} /></label>`}
        <button type="submit">Preview reset</button>
      </form>
      ${invalid !== undefined && html`<p class="error" role="alert">${invalid}</p>`}
      <${ErrorMessage} error=${error} />
      ${preview !== undefined &&
      html`<div class="preview" role="region" aria-label="Reset preview">
        <p>Dry run: the group's offsets on <code>${topic}</code> would become:</p>
        <ul>${preview.partitions.map((p) => html`<li key=${p.partition}>partition ${p.partition} → offset <strong>${p.offset}</strong></li>`)}</ul>
        <button type="button" class="danger" onClick=${() => void run(false)}>Confirm reset</button>
        <button type="button" onClick=${() => setPreview(undefined)}>Cancel</button>
      </div>`}
      ${done !== undefined && html`<p class="ok" role="status">${done}</p>`}
    </section>
  `;
}
