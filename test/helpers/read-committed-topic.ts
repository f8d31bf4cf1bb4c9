import { Admin, Consumer, type ConsumerRecord, type Transport } from '../../sdk/mod.ts';

/** Every committed record of `topic` (raw bytes) up to its read_committed end now, partition by partition. */
export async function readCommittedTopic(transport: Transport, topic: string): Promise<ConsumerRecord<Uint8Array, Uint8Array>[]> {
  const ends = await new Admin(transport).topicOffsets(topic, 1);
  const open = ends.filter((e) => e.latest > e.earliest);
  const out: ConsumerRecord<Uint8Array, Uint8Array>[] = [];
  if (open.length === 0) return out;
  const consumer = new Consumer(transport, { autoOffsetReset: 'earliest' });
  consumer.assign(open.map((e) => ({ topic, partition: e.partition })));
  const done = new Set<number>();
  try {
    for await (const batch of consumer.batches({ includeEmpty: true })) {
      const end = ends.find((e) => e.partition === batch.partition)!.latest;
      for (const r of batch.records) if (r.offset < end) out.push(r);
      if ((consumer.position(batch) ?? 0) >= end) done.add(batch.partition);
      if (done.size === open.length) break;
    }
  } finally {
    await consumer.close();
  }
  return out.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}
