import { html } from 'htm/preact';
import { enc } from './api.ts';
import { ErrorMessage, Loading, useApi } from './ui.ts';

interface ShareGroupDescription {
  groupId: string;
  groupState: string;
  groupEpoch: number;
  members: { memberId: string; clientId: string; clientHost: string; subscribedTopicNames: string[]; assignment: { topic: string; partitions: number[] }[] }[];
  config: { recordLockDurationMs: number; deliveryCountLimit: number; sessionTimeoutMs: number; deadLetterTopic: string; retryBackoffMs: number[] };
}

interface SharePartitions {
  deadLetterTopic: string;
  deadLettered: number | null;
  partitions: {
    topic: string;
    partition: number;
    startOffset: number;
    endOffset: number;
    highWatermark: number;
    lag: number;
    available: number;
    acquired: number;
    acknowledged: number;
    archived: number;
    inBackoff: number;
    deliveryCounts: Record<string, number>;
    truncated: boolean;
  }[];
}

/** The share groups (KIP-932) the token may describe. */
export function ShareGroupsPage() {
  const { data, error } = useApi<{ groups: { groupId: string; groupState: string; members: number }[] }>('/v1/share-groups');
  return html`
    <h1>Share groups</h1>
    <${ErrorMessage} error=${error} />
    ${data === undefined
      ? error === undefined && html`<${Loading} />`
      : data.groups.length === 0
        ? html`<p>No share groups.</p>`
        : html`<div class="scroll" tabindex="0"><table>
            <caption class="visually-hidden">Share groups</caption>
            <thead><tr><th scope="col">Group</th><th scope="col">State</th><th scope="col">Members</th></tr></thead>
            <tbody>${data.groups.map((g) => html`<tr key=${g.groupId}><td><a href=${`#/share-groups/${enc(g.groupId)}`}>${g.groupId}</a></td><td>${g.groupState}</td><td>${g.members}</td></tr>`)}</tbody>
          </table></div>`}
  `;
}

function deliveries(counts: Record<string, number>): string {
  const entries = Object.entries(counts).sort((a, b) => Number(a[0]) - Number(b[0]));
  return entries.length === 0 ? '—' : entries.map(([times, n]) => `${n}×${times}`).join(', ');
}

/** One share group: members and their assignments, its settings, and each share partition's window. */
export function ShareGroupPage({ group }: { group: string }) {
  const description = useApi<ShareGroupDescription>(`/v1/share-groups/${enc(group)}`);
  const partitions = useApi<SharePartitions>(`/v1/share-groups/${enc(group)}/partitions`);
  const reload = () => {
    description.reload();
    partitions.reload();
  };
  const d = description.data;
  const p = partitions.data;
  return html`
    <p><a href="#/share-groups">← Share groups</a></p>
    <h1>Share group <code>${group}</code></h1>
    <${ErrorMessage} error=${description.error ?? partitions.error} />
    ${d === undefined || p === undefined
      ? description.error === undefined && partitions.error === undefined && html`<${Loading} />`
      : html`
          <dl class="stats">
            <div><dt>State</dt><dd data-testid="share-state">${d.groupState}</dd></div>
            <div><dt>Members</dt><dd data-testid="share-members">${d.members.length}</dd></div>
            <div><dt>In flight (acquired)</dt><dd data-testid="share-acquired">${p.partitions.reduce((sum, x) => sum + x.acquired, 0)}</dd></div>
            <div><dt>Dead-lettered</dt><dd data-testid="share-dead-lettered">${p.deadLettered ?? '—'}</dd></div>
          </dl>
          <p class="muted">
            Lock ${d.config.recordLockDurationMs} ms, delivery limit ${d.config.deliveryCountLimit}, session timeout ${d.config.sessionTimeoutMs} ms${d.config.retryBackoffMs.length > 0 ? `, retry backoff ${d.config.retryBackoffMs.join(' → ')} ms` : ''};
            dead letters go to <a href=${`#/topics/${enc(p.deadLetterTopic)}`}><code>${p.deadLetterTopic}</code></a>.
          </p>
          <section aria-labelledby="share-members-heading">
            <h2 id="share-members-heading">Members</h2>
            ${d.members.length === 0
              ? html`<p>No members.</p>`
              : html`<div class="scroll" tabindex="0"><table>
                  <caption class="visually-hidden">Members of ${group}</caption>
                  <thead><tr><th scope="col">Member id</th><th scope="col">Client id</th><th scope="col">Host</th><th scope="col">Subscribed</th><th scope="col">Assigned</th></tr></thead>
                  <tbody>${d.members.map(
                    (m) => html`<tr key=${m.memberId}><td><code>${m.memberId}</code></td><td>${m.clientId}</td><td>${m.clientHost}</td><td>${m.subscribedTopicNames.join(', ')}</td><td>${m.assignment.map((a) => `${a.topic} [${a.partitions.join(', ')}]`).join('; ') || '—'}</td></tr>`,
                  )}</tbody>
                </table></div>`}
          </section>
          <section aria-labelledby="share-partitions-heading">
            <h2 id="share-partitions-heading">Share partitions</h2>
            <p class="muted">Records below the start offset are done; between start and end they are in flight: available, acquired (locked by a member), acknowledged or archived (rejected, dead-lettered).</p>
            ${p.partitions.length === 0
              ? html`<p>No share partitions yet: the group has fetched nothing.</p>`
              : html`<div class="scroll" tabindex="0"><table>
                  <caption class="visually-hidden">Share partitions of ${group}</caption>
                  <thead><tr><th scope="col">Topic</th><th scope="col">Partition</th><th scope="col">Start offset</th><th scope="col">End offset</th><th scope="col">High watermark</th><th scope="col">Lag</th><th scope="col">Available</th><th scope="col">Acquired</th><th scope="col">Acknowledged</th><th scope="col">Archived</th><th scope="col">In backoff</th><th scope="col">Deliveries</th></tr></thead>
                  <tbody>${p.partitions.map(
                    (x) => html`<tr key=${`${x.topic}-${x.partition}`} data-share-partition=${`${x.topic}-${x.partition}`}>
                      <td>${x.topic}</td><td>${x.partition}</td><td class="start-offset">${x.startOffset}</td><td>${x.endOffset}${x.truncated ? ' (window truncated)' : ''}</td><td>${x.highWatermark}</td><td>${x.lag}</td>
                      <td>${x.available}</td><td class="acquired">${x.acquired}</td><td>${x.acknowledged}</td><td>${x.archived}</td><td>${x.inBackoff}</td><td>${deliveries(x.deliveryCounts)}</td>
                    </tr>`,
                  )}</tbody>
                </table></div>`}
            <button type="button" onClick=${reload}>Refresh</button>
          </section>
        `}
  `;
}
