import { html } from 'htm/preact';
import { enc, type CleanerSummary } from './api.ts';
import { formatBytes } from './ui.ts';

const percent = (ratio: number): string => `${Math.round(ratio * 100)} %`;

/** The log cleaner on the overview: compacted partitions by state, its totals, and the partitions needing a look. */
export function CleanerPanel({ cleaner }: { cleaner: CleanerSummary }) {
  const { partitions, totals } = cleaner;
  const compacted = partitions.idle + partitions.cleaning + partitions.failed;
  return html`
    <section aria-labelledby="cleaner-heading" data-testid="cleaner-panel">
      <h2 id="cleaner-heading">Log cleaner</h2>
      ${compacted === 0
        ? html`<p class="muted">No compacted topics.</p>`
        : html`
            <dl class="stats">
              <div>
                <dt>Compacted partitions</dt>
                <dd data-testid="cleaner-partitions">${compacted}</dd>
              </div>
              <div>
                <dt>Cleaning / failed</dt>
                <dd><span>${partitions.cleaning}</span> / <span class=${partitions.failed > 0 ? 'error' : ''} data-testid="cleaner-failed">${partitions.failed}</span></dd>
              </div>
              <div><dt>Max dirty ratio</dt><dd>${percent(cleaner.maxDirtyRatio)}</dd></div>
              <div><dt>Cleanable now</dt><dd>${formatBytes(cleaner.cleanableBytes)}</dd></div>
              <div><dt>Passes (errors)</dt><dd data-testid="cleaner-passes">${totals.passes} (${totals.errors})</dd></div>
              <div><dt>Records removed</dt><dd>${totals.recordsRemoved}</dd></div>
              <div><dt>Read / written</dt><dd>${formatBytes(totals.bytesRead)} / ${formatBytes(totals.bytesWritten)}</dd></div>
            </dl>
            ${cleaner.attention.length === 0
              ? html`<p class="ok">Every compacted partition is cleaned up to its topic’s min.cleanable.dirty.ratio.</p>`
              : html`<div class="scroll" tabindex="0"><table>
                  <caption class="visually-hidden">Compacted partitions that failed or wait to be cleaned, worst first</caption>
                  <thead><tr><th scope="col">Partition</th><th scope="col">State</th><th scope="col">Dirty ratio (min)</th><th scope="col">Cleanable</th><th scope="col">Last error</th></tr></thead>
                  <tbody>${cleaner.attention.map(
                    (p) => html`<tr key=${`${p.topic}-${p.partition}`} class=${p.state === 'failed' ? 'failed' : ''} data-partition=${`${p.topic}-${p.partition}`}>
                      <td><a href=${`#/topics/${enc(p.topic)}`}>${p.topic}</a>-${p.partition}</td>
                      <td class=${p.state === 'failed' ? 'error' : ''}>${p.state}</td>
                      <td>${percent(p.dirtyRatio)} (${percent(p.minCleanableDirtyRatio)})</td>
                      <td>${formatBytes(p.cleanableBytes)}</td>
                      <td class="last-error">${p.lastError ?? '—'}</td>
                    </tr>`,
                  )}</tbody>
                </table></div>
                ${cleaner.more > 0 && html`<p class="muted">and ${cleaner.more} more.</p>`}`}
          `}
    </section>
  `;
}
