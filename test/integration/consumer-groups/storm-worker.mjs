/**
 * One member of the rebalance-storm group, in its own Node process so the test can SIGKILL it mid-batch.
 * kafkajs with manual commits: every record is "processed" by writing a line, and the offset after it is
 * committed at the end of each batch and every COMMIT_EVERY records inside one. Stdout lines:
 *
 *   assigned <json partitions>     after each SyncGroup (kafkajs GROUP_JOIN)
 *   p <partition> <offset> <value> one per processed record, written before any commit covering it
 *   c <partition> <offset>         a commit the broker accepted (the next offset to read)
 *
 * Lines go out with a blocking write(2) on fd 1 (process.stdout is never touched, so Node leaves the
 * pipe blocking): a record's line is in the pipe before the commit covering it is sent, and nothing
 * is lost in a user-space buffer when the process is killed. Each record costs `workIterations` steps
 * of arithmetic, standing in for real work.
 *
 * Stdin commands: `kill` makes the member SIGKILL itself at the next record that leaves at least
 * KILL_UNCOMMITTED records of its partition uncommitted, so it dies mid-batch with work the group
 * must redeliver. SIGTERM leaves the group gracefully (LeaveGroup) and exits; so does the end of
 * stdin, so a member never outlives the test that started it.
 *
 *   node storm-worker.mjs <host:port> <topic> <group> <sessionTimeoutMs> <workIterations>
 */
import { writeSync } from 'node:fs';
import kafkajs from 'kafkajs';

const { Kafka, logLevel } = kafkajs;
const [bootstrap, topic, groupId, sessionTimeoutText, workText] = process.argv.slice(2);
const workIterations = Number(workText);
const COMMIT_EVERY = 500;
const KILL_UNCOMMITTED = 50;
let killArmed = false;

const emit = (line) => writeSync(1, `${line}\n`);

const kafka = new Kafka({ clientId: `storm-${process.pid}`, brokers: [bootstrap], logLevel: logLevel.NOTHING, retry: { retries: 10, initialRetryTime: 100 } });
const consumer = kafka.consumer({
  groupId,
  sessionTimeout: Number(sessionTimeoutText),
  heartbeatInterval: 500,
  rebalanceTimeout: 10_000,
  maxWaitTimeInMs: 500,
});
consumer.on(consumer.events.GROUP_JOIN, (e) => emit(`assigned ${JSON.stringify(e.payload.memberAssignment[topic] ?? [])}`));

let checksum = 0;
function work(value) {
  let h = value.length;
  for (let i = 0; i < workIterations; i++) h = (Math.imul(h, 31) + i) | 0;
  checksum ^= h;
}

async function commit(partition, next) {
  try {
    await consumer.commitOffsets([{ topic, partition, offset: String(next) }]);
    emit(`c ${partition} ${next}`);
  } catch {
    // Refused by a rebalance: what this member processed since its last commit will be processed again.
  }
}

await consumer.connect();
await consumer.subscribe({ topic, fromBeginning: true });
await consumer.run({
  autoCommit: false,
  eachBatchAutoResolve: false,
  eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
    let next = -1;
    let sinceCommit = 0;
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) break;
      work(message.value);
      emit(`p ${batch.partition} ${message.offset} ${message.value.toString()}`);
      resolveOffset(message.offset);
      next = Number(message.offset) + 1;
      if (killArmed && sinceCommit + 1 >= KILL_UNCOMMITTED) process.kill(process.pid, 'SIGKILL');
      if (++sinceCommit === COMMIT_EVERY) {
        await commit(batch.partition, next);
        await heartbeat();
        sinceCommit = 0;
      }
    }
    if (sinceCommit > 0) await commit(batch.partition, next);
  },
});

const leave = () =>
  consumer.disconnect().then(
    () => process.exit(0),
    () => process.exit(1),
  );
process.once('SIGTERM', leave);
process.stdin.setEncoding('utf8');
process.stdin.on('data', (text) => {
  if (text.includes('kill')) killArmed = true;
});
process.stdin.on('end', leave);
