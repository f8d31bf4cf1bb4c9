import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { api, enc, type GroupDescription } from './api.ts';
import { LiveChart, MAX_POINTS } from './live-chart.ts';

const POLL_MS = 2000;

/** The group's total lag over time, polled from its description while the page is open. */
export function LagChart({ group }: { group: string }) {
  const [points, setPoints] = useState<{ times: number[]; lags: number[] }>({ times: [], lags: [] });
  useEffect(() => {
    let stopped = false;
    const poll = async () => {
      // A failed poll leaves a gap; the page above shows the group's own errors.
      const description = await api<GroupDescription>(`/v1/groups/${enc(group)}`).catch(() => undefined);
      if (stopped || description === undefined) return;
      const timeS = Date.now() / 1000;
      setPoints((p) => ({ times: [...p.times, timeS].slice(-MAX_POINTS), lags: [...p.lags, description.totalLag].slice(-MAX_POINTS) }));
    };
    void poll();
    const timer = setInterval(() => void poll(), POLL_MS);
    return () => {
      stopped = true;
      clearInterval(timer);
    };
  }, [group]);
  return html`<${LiveChart} title="Total lag" unit="records" times=${points.times} series=${[{ label: 'lag', values: points.lags, color: '#b3541e' }]} />`;
}
