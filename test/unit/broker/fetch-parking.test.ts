import { afterEach, describe, expect, it, vi } from 'vitest';
import { FetchParking, type HighWatermarkSource, type WakeReason } from '../../../broker/fetch/fetch-parking.ts';

const LONG_WAIT_MS = 60_000;

class FakeSource implements HighWatermarkSource {
  private readonly listeners = new Map<object, (highWatermark: number) => void>();
  subscribeCalls = 0;
  unsubscribeCalls = 0;

  constructor(public highWatermark = 0) {}

  onHighWatermark(listener: (highWatermark: number) => void): () => void {
    const token = {};
    this.subscribeCalls++;
    this.listeners.set(token, listener);
    return () => {
      this.unsubscribeCalls++;
      this.listeners.delete(token);
    };
  }

  get activeListeners(): number {
    return this.listeners.size;
  }

  advance(to = this.highWatermark + 1): void {
    this.highWatermark = to;
    for (const listener of [...this.listeners.values()]) listener(to);
  }
}

interface Tracked {
  readonly promise: Promise<WakeReason>;
  reason: WakeReason | undefined;
}

function track(promise: Promise<WakeReason>): Tracked {
  const tracked: Tracked = { promise, reason: undefined };
  void promise.then((reason) => {
    tracked.reason = reason;
  });
  return tracked;
}

interface Timed {
  reason: WakeReason;
  elapsedMs: number;
}

function timed(park: () => Promise<WakeReason>): Promise<Timed> {
  const start = performance.now();
  return park().then((reason) => ({ reason, elapsedMs: performance.now() - start }));
}

function parkOn(parking: FetchParking, sources: readonly FakeSource[], waitMs = LONG_WAIT_MS, signal?: AbortSignal): Tracked {
  return track(
    parking.park(
      sources,
      sources.map((s) => s.highWatermark),
      waitMs,
      signal,
    ),
  );
}

const created: FetchParking[] = [];

function newParking(maxParked = 100): FetchParking {
  const parking = new FetchParking(maxParked);
  created.push(parking);
  return parking;
}

afterEach(() => {
  for (const parking of created.splice(0)) parking.close();
});

function expectNoListeners(...sources: FakeSource[]): void {
  for (const source of sources) {
    expect(source.activeListeners).toBe(0);
    expect(source.unsubscribeCalls).toBe(source.subscribeCalls);
  }
}

describe('FetchParking immediate answers', () => {
  it("answers 'data' at once when a source's high watermark moved since it was seen", async () => {
    const parking = newParking();
    const a = new FakeSource(5);
    const b = new FakeSource(9);
    const reason = await parking.park([a, b], [5, 8], LONG_WAIT_MS);
    expect(reason).toBe('data');
    expect(parking.parkedCount).toBe(0);
    expect(a.subscribeCalls + b.subscribeCalls).toBe(0);
  });

  it("answers 'aborted' at once for an already-aborted signal without parking", async () => {
    const parking = newParking();
    const source = new FakeSource();
    const controller = new AbortController();
    controller.abort();
    const reason = await parking.park([source], [source.highWatermark], LONG_WAIT_MS, controller.signal);
    expect(reason).toBe('aborted');
    expect(parking.parkedCount).toBe(0);
    expect(source.subscribeCalls).toBe(0);
  });
});

describe('FetchParking wake by data', () => {
  it('wakes only the fetches subscribed to the advancing source and unsubscribes all their listeners', async () => {
    const parking = newParking();
    const a = new FakeSource();
    const b = new FakeSource();
    const c = new FakeSource();
    const onAB = parkOn(parking, [a, b]);
    const onB = parkOn(parking, [b]);
    const onC = parkOn(parking, [c]);
    expect(parking.parkedCount).toBe(3);

    b.advance();
    expect(await onAB.promise).toBe('data');
    expect(await onB.promise).toBe('data');
    expect(onC.reason).toBeUndefined();
    expect(parking.parkedCount).toBe(1);
    expectNoListeners(a, b);
    expect(c.activeListeners).toBe(1);

    c.advance();
    expect(await onC.promise).toBe('data');
    expect(parking.parkedCount).toBe(0);
    expectNoListeners(a, b, c);
  });

  it('wakes exactly the right fetch whichever parked entry is removed, as entries are swapped in the array', async () => {
    const parking = newParking();
    const sources = Array.from({ length: 6 }, () => new FakeSource());
    const fetches = sources.map((s) => parkOn(parking, [s]));
    const order = [1, 5, 0, 3, 4, 2];
    for (const [step, i] of order.entries()) {
      sources[i]!.advance();
      expect(await fetches[i]!.promise).toBe('data');
      expect(parking.parkedCount).toBe(sources.length - step - 1);
      const stillParked = order.slice(step + 1);
      for (const j of stillParked) {
        expect(fetches[j]!.reason).toBeUndefined();
        expect(sources[j]!.activeListeners).toBe(1);
      }
      expectNoListeners(...order.slice(0, step + 1).map((j) => sources[j]!));
    }
  });

  it('resolves a fetch once even when several of its sources advance', async () => {
    const parking = newParking();
    const a = new FakeSource();
    const b = new FakeSource();
    const other = parkOn(parking, [new FakeSource()]);
    const fetch = parkOn(parking, [a, b]);
    a.advance();
    b.advance();
    a.advance();
    expect(await fetch.promise).toBe('data');
    expect(parking.parkedCount).toBe(1);
    expect(other.reason).toBeUndefined();
    expectNoListeners(a, b);
  });

  it('counts a freed slot again once a parked fetch is woken', async () => {
    const parking = newParking(1);
    const source = new FakeSource();
    const first = parkOn(parking, [source]);
    expect(parking.canPark()).toBe(false);
    source.advance();
    expect(await first.promise).toBe('data');
    expect(parking.canPark()).toBe(true);
    const second = parkOn(parking, [source]);
    expect(parking.parkedCount).toBe(1);
    source.advance();
    expect(await second.promise).toBe('data');
    expectNoListeners(source);
  });
});

describe('FetchParking deadlines', () => {
  it("times out entries with different waits in deadline order, none before its own wait", async () => {
    const parking = newParking();
    const sources = [new FakeSource(), new FakeSource(), new FakeSource()];
    const finished: number[] = [];
    const waits = [40, 5, 20];
    const results = await Promise.all(
      waits.map((waitMs, i) =>
        timed(() => parking.park([sources[i]!], [0], waitMs)).then((result) => {
          finished.push(waitMs);
          return result;
        }),
      ),
    );
    expect(finished).toEqual([5, 20, 40]);
    for (const [i, { reason, elapsedMs }] of results.entries()) {
      expect(reason).toBe('timeout');
      expect(elapsedMs).toBeGreaterThanOrEqual(waits[i]! - 2);
    }
    expect(parking.parkedCount).toBe(0);
    expectNoListeners(...sources);
  });

  it('times out later entries after the earliest one was woken by data (the timer is re-armed)', async () => {
    const parking = newParking();
    const early = new FakeSource();
    const late = new FakeSource();
    const later = new FakeSource();
    const earlyFetch = parkOn(parking, [early], 5);
    const lateFetch = timed(() => parking.park([late], [0], 20));
    const laterFetch = timed(() => parking.park([later], [0], 35));
    early.advance();
    expect(await earlyFetch.promise).toBe('data');

    const lateResult = await lateFetch;
    expect(lateResult.reason).toBe('timeout');
    expect(lateResult.elapsedMs).toBeGreaterThanOrEqual(20 - 2);
    expect(parking.parkedCount).toBe(1);

    const laterResult = await laterFetch;
    expect(laterResult.reason).toBe('timeout');
    expect(laterResult.elapsedMs).toBeGreaterThanOrEqual(35 - 2);
    expect(parking.parkedCount).toBe(0);
    expectNoListeners(early, late, later);
  });

  it('arms a timer again after the only parked entry was woken by data', async () => {
    const parking = newParking();
    const first = new FakeSource();
    const fetch = parkOn(parking, [first], 5);
    first.advance();
    expect(await fetch.promise).toBe('data');
    expect(parking.parkedCount).toBe(0);

    const second = new FakeSource();
    const result = await timed(() => parking.park([second], [0], 10));
    expect(result.reason).toBe('timeout');
    expect(result.elapsedMs).toBeGreaterThanOrEqual(10 - 2);
    expectNoListeners(first, second);
  });

  it('re-arms for an entry parked later with an earlier deadline than the one the timer waits for', async () => {
    const parking = newParking();
    const slow = new FakeSource();
    const fast = new FakeSource();
    const slowFetch = parkOn(parking, [slow], LONG_WAIT_MS);
    const fastResult = await timed(() => parking.park([fast], [0], 5));
    expect(fastResult.reason).toBe('timeout');
    expect(fastResult.elapsedMs).toBeGreaterThanOrEqual(5 - 2);
    expect(slowFetch.reason).toBeUndefined();
    expect(parking.parkedCount).toBe(1);
    expectNoListeners(fast);
    expect(slow.activeListeners).toBe(1);
  });

  it('times out none of several entries with close deadlines before its own wait', async () => {
    const parking = newParking();
    const waits = [11, 5, 9, 7];
    const sources = waits.map(() => new FakeSource());
    const results = await Promise.all(waits.map((waitMs, i) => timed(() => parking.park([sources[i]!], [0], waitMs))));
    for (const [i, { reason, elapsedMs }] of results.entries()) {
      expect(reason).toBe('timeout');
      expect(elapsedMs).toBeGreaterThanOrEqual(waits[i]! - 2);
    }
    expect(parking.parkedCount).toBe(0);
    expectNoListeners(...sources);
  });
});

describe('FetchParking abort signals', () => {
  it("resolves exactly the entries parked with the aborted signal as 'aborted'", async () => {
    const parking = newParking();
    const first = new AbortController();
    const second = new AbortController();
    const sources = [new FakeSource(), new FakeSource(), new FakeSource()];
    const a = parkOn(parking, [sources[0]!], LONG_WAIT_MS, first.signal);
    const b = parkOn(parking, [sources[1]!], LONG_WAIT_MS, first.signal);
    const c = parkOn(parking, [sources[2]!], LONG_WAIT_MS, second.signal);

    first.abort();
    expect(await a.promise).toBe('aborted');
    expect(await b.promise).toBe('aborted');
    expect(c.reason).toBeUndefined();
    expect(parking.parkedCount).toBe(1);
    expectNoListeners(sources[0]!, sources[1]!);
    expect(sources[2]!.activeListeners).toBe(1);

    second.abort();
    expect(await c.promise).toBe('aborted');
    expect(parking.parkedCount).toBe(0);
    expectNoListeners(...sources);
  });

  it('adds one abort listener per signal however many fetches park with it', async () => {
    const parking = newParking();
    const controller = new AbortController();
    const addEventListener = vi.spyOn(controller.signal, 'addEventListener');
    const source = new FakeSource();
    const fetches = [0, 1, 2].map(() => parkOn(parking, [source], LONG_WAIT_MS, controller.signal));
    source.advance();
    for (const fetch of fetches) expect(await fetch.promise).toBe('data');
    const again = parkOn(parking, [source], LONG_WAIT_MS, controller.signal);
    expect(addEventListener).toHaveBeenCalledTimes(1);

    controller.abort();
    expect(await again.promise).toBe('aborted');
    expect(parking.parkedCount).toBe(0);
    expectNoListeners(source);
  });

  it('leaves entries without a signal parked when a signal aborts', async () => {
    const parking = newParking();
    const controller = new AbortController();
    const withSignal = parkOn(parking, [new FakeSource()], LONG_WAIT_MS, controller.signal);
    const withoutSignal = parkOn(parking, [new FakeSource()]);
    controller.abort();
    expect(await withSignal.promise).toBe('aborted');
    expect(withoutSignal.reason).toBeUndefined();
    expect(parking.parkedCount).toBe(1);
  });
});

describe('FetchParking bound', () => {
  it("answers 'timeout' at once past maxParked and reports that no more can park", async () => {
    const parking = newParking(2);
    const sources = [new FakeSource(), new FakeSource(), new FakeSource()];
    expect(parking.canPark()).toBe(true);
    const first = parkOn(parking, [sources[0]!]);
    expect(parking.canPark()).toBe(true);
    const second = parkOn(parking, [sources[1]!]);
    expect(parking.canPark()).toBe(false);

    const start = performance.now();
    expect(await parking.park([sources[2]!], [0], LONG_WAIT_MS)).toBe('timeout');
    expect(performance.now() - start).toBeLessThan(1000);
    expect(parking.parkedCount).toBe(2);
    expect(sources[2]!.subscribeCalls).toBe(0);
    expect(first.reason).toBeUndefined();
    expect(second.reason).toBeUndefined();
  });
});

describe('FetchParking close', () => {
  it("resolves every parked entry with 'closing' and answers later parks with 'closing' at once", async () => {
    const parking = newParking();
    const controller = new AbortController();
    const sources = [new FakeSource(), new FakeSource(), new FakeSource()];
    const fetches = [
      parkOn(parking, [sources[0]!], 5),
      parkOn(parking, [sources[1]!, sources[2]!], LONG_WAIT_MS, controller.signal),
      parkOn(parking, [sources[2]!]),
    ];
    expect(parking.parkedCount).toBe(3);

    parking.close();
    for (const fetch of fetches) expect(await fetch.promise).toBe('closing');
    expect(parking.parkedCount).toBe(0);
    expect(parking.canPark()).toBe(false);
    expectNoListeners(...sources);

    const later = new FakeSource();
    expect(await parking.park([later], [0], LONG_WAIT_MS)).toBe('closing');
    expect(parking.parkedCount).toBe(0);
    expect(later.subscribeCalls).toBe(0);
  });
});
