import { describe, expect, it } from 'vitest';
import { Progress, progressMode } from '../../../../broker/cli/progress.ts';

function recorder(): { text: string[]; write(t: string): void } {
  const text: string[] = [];
  return { text, write: (t) => void text.push(t) };
}

describe('Progress', () => {
  it('redraws one bar in place on a terminal, with percentage, rate and ETA, and ends its line', () => {
    let now = 0;
    const sink = recorder();
    const progress = new Progress({ label: 'produce', unit: 'records', total: 1_000, mode: 'bar', sink, columns: 120, now: () => now });
    now = 1_000;
    progress.update(250);
    now = 1_050;
    progress.update(300); // within the redraw interval: not drawn
    now = 2_000;
    progress.update(500);
    progress.finish(1_000);
    expect(sink.text).toEqual([
      '\rproduce [#####...............]  25% 250/1,000 records  250 records/s, ETA 3s\x1b[K',
      '\rproduce [##########..........]  50% 500/1,000 records  250 records/s, ETA 2s\x1b[K',
      '\rproduce [####################] 100% 1,000/1,000 records  500 records/s, 2s\x1b[K',
      '\n',
    ]);
  });

  it('prints plain lines at most once per second on a pipe, and a last one', () => {
    let now = 0;
    const sink = recorder();
    const progress = new Progress({ label: 'produce', unit: 'bytes', total: 4_000_000, mode: 'lines', sink, now: () => now });
    now = 500;
    progress.update(500_000); // the first second stays quiet
    now = 1_000;
    progress.update(1_000_000);
    now = 1_500;
    progress.update(1_500_000);
    now = 2_000;
    progress.update(2_000_000);
    progress.finish();
    expect(sink.text).toEqual([
      'produce: 1.0 MB/4.0 MB (25%), 1.0 MB/s, ETA 3s\n',
      'produce: 2.0 MB/4.0 MB (50%), 1.0 MB/s, ETA 2s\n',
      'produce: 2.0 MB/4.0 MB (50%), 1.0 MB/s, 2s\n',
    ]);
  });

  it('prints nothing when off, nor for quick work that only reports when slow', () => {
    const sink = recorder();
    const off = new Progress({ label: 'consume', unit: 'records', total: 10, mode: 'off', sink });
    off.update(5);
    off.finish(10);
    let now = 0;
    const quick = new Progress({ label: 'produce', unit: 'records', mode: 'lines', sink, now: () => now, onlyIfSlow: true });
    now = 200;
    quick.update(3);
    quick.finish(3);
    expect(sink.text).toEqual([]);
    expect(progressMode(true, true)).toBe('off');
    expect(progressMode(false, true)).toBe('bar');
    expect(progressMode(undefined, false)).toBe('lines');
  });
});
