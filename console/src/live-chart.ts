import { html } from 'htm/preact';
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

/** Points kept per chart: ten minutes at the overview's 2-second polling. */
export const MAX_POINTS = 300;

/** A live line chart (rates, lag); `times` in seconds, one series per label, redrawn when the arrays change. */
export function LiveChart({ title, unit, times, series }: { title: string; unit: string; times: number[]; series: { label: string; values: number[]; color: string }[] }) {
  const container = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);

  useEffect(() => {
    const element = container.current;
    if (element === null) return;
    const chart = new uPlot(
      {
        title,
        width: Math.max(240, element.clientWidth),
        height: 180,
        scales: { x: { time: true } },
        axes: [{}, { label: unit, size: 60 }],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.color, width: 2 }))],
      },
      [times, ...series.map((s) => s.values)],
      element,
    );
    plot.current = chart;
    const resize = new ResizeObserver(() => chart.setSize({ width: Math.max(240, element.clientWidth), height: 180 }));
    resize.observe(element);
    return () => {
      resize.disconnect();
      chart.destroy();
      plot.current = null;
    };
  }, [title, unit, series.length]);

  useEffect(() => {
    plot.current?.setData([times, ...series.map((s) => s.values)]);
  }, [times, series]);

  return html`<figure class="chart"><div ref=${container} role="img" aria-label=${`${title}, ${unit}`}></div></figure>`;
}
