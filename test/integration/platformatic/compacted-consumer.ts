/**
 * Run under Bun or Deno (platformatic needs Node >= 22): reads a compacted topic from the earliest
 * offset in a consumer group, once read_uncommitted and once read_committed, each until the record
 * at the given last offset, and prints `<offset>:<key>=<value>` per record (`null` for a null).
 *
 *   bun test/integration/platformatic/compacted-consumer.ts <host:port> <topic> <group> <lastUncommitted> <lastCommitted>
 */
import { Consumer, FetchIsolationLevels, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';

const [bootstrap, topic, group, lastUncommitted, lastCommitted] = process.argv.slice(2);

async function readAll(isolationLevel: number, groupId: string, lastOffset: bigint): Promise<string[]> {
  const consumer = new Consumer({
    clientId: 'platformatic-compacted',
    groupId,
    bootstrapBrokers: [bootstrap!],
    deserializers: stringDeserializers,
    isolationLevel,
    sessionTimeout: 10_000,
    heartbeatInterval: 500,
    maxWaitTime: 200,
  });
  const read: string[] = [];
  try {
    const stream = await consumer.consume({ topics: [topic!], mode: MessagesStreamModes.EARLIEST, autocommit: false });
    for await (const message of stream) {
      read.push(`${message.offset}:${message.key ?? 'null'}=${message.value ?? 'null'}`);
      if (message.offset >= lastOffset) break;
    }
    await stream.close();
  } finally {
    await consumer.close(true);
  }
  return read;
}

const uncommitted = await readAll(FetchIsolationLevels.READ_UNCOMMITTED, `${group}-uncommitted`, BigInt(lastUncommitted!));
const committed = await readAll(FetchIsolationLevels.READ_COMMITTED, `${group}-committed`, BigInt(lastCommitted!));
console.log(JSON.stringify({ uncommitted, committed }));
