/**
 * Run under Bun or Deno (platformatic needs Node >= 22): produces numbered records with acks=all
 * through @platformatic/kafka's flexible-version codecs and prints what the broker acknowledged.
 *
 *   bun test/integration/platformatic/producer-smoke.ts <host:port> <topic> <count>
 */
import { Admin, Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';

const [bootstrap, topic, countText] = process.argv.slice(2);
const count = Number(countText);
const producer = new Producer({
  clientId: 'platformatic-smoke',
  bootstrapBrokers: [bootstrap!],
  serializers: stringSerializers,
  idempotent: false,
  autocreateTopics: true,
});
const admin = new Admin({ clientId: 'platformatic-smoke-admin', bootstrapBrokers: [bootstrap!] });
try {
  const offsets: string[] = [];
  for (let i = 0; i < count; i += 25) {
    const messages = Array.from({ length: Math.min(25, count - i) }, (_, j) => ({
      topic: topic!,
      partition: 0,
      key: `key-${i + j}`,
      value: `platformatic-${i + j}`,
      headers: { seq: String(i + j) },
    }));
    const result = await producer.send({ messages, acks: ProduceAcks.ALL });
    offsets.push(...(result.offsets ?? []).map((o) => String(o.offset)));
  }
  const listed = await admin.listOffsets({ topics: [{ name: topic!, partitions: [{ partitionIndex: 0, timestamp: -1n }] }] });
  const latest = listed[0]?.partitions[0]?.offset;
  console.log(JSON.stringify({ ok: true, offsets, latest: String(latest) }));
} finally {
  await producer.close();
  await admin.close();
}
