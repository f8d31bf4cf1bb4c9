/**
 * Run under Bun or Deno (platformatic needs Node >= 22): joins a consumer group, reads every
 * record of a topic from the earliest offset with autocommit, and prints what it read per partition.
 *
 *   bun test/integration/platformatic/consumer-smoke.ts <host:port> <topic> <group> <expectedCount>
 */
import { Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';

const [bootstrap, topic, groupId, countText] = process.argv.slice(2);
const expected = Number(countText);
const consumer = new Consumer({
  clientId: 'platformatic-consumer-smoke',
  groupId: groupId!,
  bootstrapBrokers: [bootstrap!],
  deserializers: stringDeserializers,
  sessionTimeout: 10_000,
  heartbeatInterval: 500,
  maxWaitTime: 200,
});
const byPartition: Record<number, string[]> = {};
let read = 0;
try {
  const stream = await consumer.consume({ topics: [topic!], mode: MessagesStreamModes.EARLIEST, autocommit: true });
  for await (const message of stream) {
    (byPartition[message.partition] ??= []).push(message.value);
    if (++read === expected) break;
  }
  await stream.close();
  console.log(JSON.stringify({ ok: true, byPartition }));
} finally {
  await consumer.close(true);
}
