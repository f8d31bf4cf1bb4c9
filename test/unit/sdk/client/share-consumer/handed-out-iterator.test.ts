import { describe, expect, it } from 'vitest';
import { HandedOutIterator, type HandedOutSource } from '../../../../../sdk/client/share-consumer/handed-out-iterator.ts';

class Item {
  acknowledged = false;
  accepted = false;
  constructor(readonly n: number) {}
  accept(): void {
    this.acknowledged = true;
    this.accepted = true;
  }
}

/** A consumer's side as the iterator sees it: fetches hand over the next prepared batch. */
function source(batches: Item[][], options: { implicit?: boolean; failAt?: number } = {}) {
  const state = { closed: false, joins: 0, fetches: 0, buffer: [] as Item[] };
  const src: HandedOutSource<Item> = {
    start: async () => void state.joins++,
    nextBuffered: () => state.buffer.shift(),
    refill: async () => {
      state.fetches++;
      if (state.fetches === options.failAt) throw new Error('fetch failed');
      state.buffer.push(...(batches.shift() ?? []));
      if (state.buffer.length === 0) state.closed = true;
    },
    isClosed: () => state.closed,
    acceptsImplicitly: options.implicit ?? true,
  };
  return { state, src };
}

describe('HandedOutIterator', () => {
  it('hands out every record in order, accepting the one before (implicit mode) before the fetch that carries it', async () => {
    const items = [new Item(1), new Item(2), new Item(3)];
    const { state, src } = source([[items[0]!, items[1]!], [items[2]!]]);
    const seen: number[] = [];
    const acceptedAtFetch: boolean[] = [];
    const refill = src.refill;
    src.refill = async () => {
      acceptedAtFetch.push(items.slice(0, seen.length).every((i) => i.accepted));
      await refill();
    };
    for await (const item of { [Symbol.asyncIterator]: () => new HandedOutIterator(src) }) seen.push(item.n);
    expect(seen).toEqual([1, 2, 3]);
    expect(acceptedAtFetch).toEqual([true, true, true]);
    expect(state.joins).toBe(1);
    expect(items.map((i) => i.accepted)).toEqual([true, true, true]);
  });

  it('leaves acknowledged records and explicit mode alone, and accepts the last one on break', async () => {
    const items = [new Item(1), new Item(2), new Item(3)];
    const explicit = source([[...items]], { implicit: false });
    for await (const item of { [Symbol.asyncIterator]: () => new HandedOutIterator(explicit.src) }) if (item.n === 2) break;
    expect(items.map((i) => i.accepted)).toEqual([false, false, false]);

    const fresh = [new Item(1), new Item(2), new Item(3)];
    const implicit = source([[...fresh]]);
    for await (const item of { [Symbol.asyncIterator]: () => new HandedOutIterator(implicit.src) }) if (item.n === 2) break;
    expect(fresh.map((i) => i.accepted)).toEqual([true, true, false]);
  });

  it('accepts nothing once the consumer closed: closing released or acknowledged what it held', async () => {
    const items = [new Item(1), new Item(2)];
    const { state, src } = source([[...items]]);
    const iterator = new HandedOutIterator(src);
    expect(await iterator.next()).toEqual({ done: false, value: items[0] });
    state.closed = true;
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
    expect(await iterator.return()).toEqual({ done: true, value: undefined });
    expect(items.map((i) => i.accepted)).toEqual([false, false]);
  });

  it('ends after a failed fetch, which it throws, and answers calls made before a step settles in call order', async () => {
    const { src } = source([[new Item(1)], [new Item(2)]], { failAt: 2 });
    const iterator = new HandedOutIterator(src);
    const results = await Promise.allSettled([iterator.next(), iterator.next(), iterator.next()]);
    expect(results[0]).toEqual({ status: 'fulfilled', value: { done: false, value: expect.objectContaining({ n: 1, accepted: true }) } });
    expect(results[1]).toMatchObject({ status: 'rejected', reason: new Error('fetch failed') });
    expect(results[2]).toEqual({ status: 'fulfilled', value: { done: true, value: undefined } });
    expect(await iterator.next()).toEqual({ done: true, value: undefined });
  });
});
