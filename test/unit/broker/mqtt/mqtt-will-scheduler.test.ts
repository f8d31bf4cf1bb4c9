import { describe, expect, it } from 'vitest';
import { MqttWillScheduler, type StartTimer } from '../../../../broker/mqtt/mqtt-will-scheduler.ts';

/** Timers the test fires by hand. */
function manualTimers(): { start: StartTimer; fire: () => void; running: () => number } {
  const timers = new Set<() => void>();
  return {
    start: (run) => {
      timers.add(run);
      return () => timers.delete(run);
    },
    fire: () => {
      for (const run of [...timers]) {
        timers.delete(run);
        run();
      }
    },
    running: () => timers.size,
  };
}

describe('MqttWillScheduler', () => {
  it('publishes at once without a delay, after the delay with one, never after a cancel, at once when the session ends', async () => {
    const timers = manualTimers();
    const published: string[] = [];
    const wills = new MqttWillScheduler((error) => {
      throw error;
    }, timers.start);
    const will = (name: string) => async () => {
      published.push(name);
    };
    wills.schedule('now', 0, will('now'));
    wills.schedule('later', 5_000, will('later'));
    wills.schedule('resumed', 5_000, will('resumed'));
    wills.schedule('ended', 5_000, will('ended'));
    expect(wills.size).toBe(3);
    wills.cancel('resumed');
    wills.publishNow('ended');
    await wills.close();
    expect(published).toEqual(['now', 'ended', 'later']);
    expect(wills.size).toBe(0);
    expect(timers.running()).toBe(0);

    wills.schedule('timed', 5_000, will('timed'));
    timers.fire();
    await wills.close();
    expect(published.at(-1)).toBe('timed');
  });

  it('publishes a pending will before scheduling the same client id again, and reports a failed publish', async () => {
    const timers = manualTimers();
    const errors: unknown[] = [];
    const published: string[] = [];
    const wills = new MqttWillScheduler((error) => errors.push(error), timers.start);
    wills.schedule('c', 5_000, async () => {
      published.push('first');
    });
    wills.schedule('c', 5_000, async () => {
      throw new Error('append failed');
    });
    expect(published).toEqual(['first']);
    expect(wills.size).toBe(1);
    timers.fire();
    await wills.close();
    expect(errors.map(String)).toEqual(['Error: append failed']);
  });
});
