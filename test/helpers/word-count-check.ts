import { Admin, Consumer, longSerde, Producer, stringSerde, type Transport } from '../../sdk/mod.ts';

/** The lines a word-count run is fed, in two rounds (before and after a restart), and the counts each round ends with. */
export const WORD_COUNT_ROUNDS = [
  {
    lines: ['The quick brown fox', 'jumps over the lazy dog', 'the fox'],
    counts: { the: 3, quick: 1, brown: 1, fox: 2, jumps: 1, over: 1, lazy: 1, dog: 1 },
  },
  {
    lines: ['A dog and the fox', "the dog's day"],
    counts: { the: 5, quick: 1, brown: 1, fox: 3, jumps: 1, over: 1, lazy: 1, dog: 2, a: 1, and: 1, "dog's": 1, day: 1 },
  },
] as const;

export async function produceLines(transport: Transport, lines: readonly string[]): Promise<void> {
  const producer = new Producer(transport, { keySerde: stringSerde, valueSerde: stringSerde });
  try {
    await producer.sendBatch(lines.map((line, i) => ({ topic: 'lines', key: `line-${i}`, value: line })));
  } finally {
    await producer.close();
  }
}

function reached(latest: ReadonlyMap<string, number>, expected: Readonly<Record<string, number>>): boolean {
  return Object.entries(expected).every(([word, count]) => (latest.get(word) ?? 0) >= count);
}

/**
 * Reads `word-counts` (read_committed) from the start until every word's latest count is at least
 * the expected one; returns the latest counts then.
 */
export async function awaitCounts(transport: Transport, expected: Readonly<Record<string, number>>): Promise<Record<string, number>> {
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: longSerde, autoOffsetReset: 'earliest' });
  const latest = new Map<string, number>();
  consumer.assign([0, 1].map((partition) => ({ topic: 'word-counts', partition })));
  try {
    for await (const record of consumer) {
      latest.set(record.key!, record.value!);
      if (reached(latest, expected)) break;
    }
  } finally {
    await consumer.close();
  }
  return Object.fromEntries(latest);
}

/** Every committed update of `word-counts` up to its end, folded into the latest count per word. */
export async function finalCounts(transport: Transport): Promise<Record<string, number>> {
  const admin = new Admin(transport);
  const ends = (await admin.topicOffsets('word-counts', 1)).filter((e) => e.latest > e.earliest);
  const latest: Record<string, number> = {};
  if (ends.length === 0) return latest;
  const consumer = new Consumer(transport, { keySerde: stringSerde, valueSerde: longSerde, autoOffsetReset: 'earliest' });
  consumer.assign(ends.map((e) => ({ topic: 'word-counts', partition: e.partition })));
  const done = new Set<number>();
  try {
    for await (const batch of consumer.batches({ includeEmpty: true })) {
      for (const r of batch.records) latest[r.key!] = r.value!;
      if ((consumer.position(batch) ?? 0) >= ends.find((e) => e.partition === batch.partition)!.latest) done.add(batch.partition);
      if (done.size === ends.length) break;
    }
  } finally {
    await consumer.close();
  }
  return latest;
}

/** Input records the word-count group has not committed. */
export async function wordCountLag(transport: Transport): Promise<number> {
  const lag = await new Admin(transport).groupLag('word-count', ['lines']);
  return lag.reduce((sum, p) => sum + p.lag, 0);
}
