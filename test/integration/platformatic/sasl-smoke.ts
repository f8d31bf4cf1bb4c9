/**
 * Run under Bun or Deno (platformatic needs Node >= 22): produces records over SASL (and TLS when a
 * CA file is given) with @platformatic/kafka and prints what the broker acknowledged, or the error.
 *
 *   bun test/integration/platformatic/sasl-smoke.ts <host:port> <topic> <mechanism> <username> <password> [ca.pem]
 */
import { readFileSync } from 'node:fs';
import { Producer, ProduceAcks, stringSerializers } from '@platformatic/kafka';

const [bootstrap, topic, mechanism, username, password, caFile] = process.argv.slice(2);
const producer = new Producer({
  clientId: 'platformatic-sasl',
  bootstrapBrokers: [bootstrap!],
  serializers: stringSerializers,
  idempotent: false,
  autocreateTopics: true,
  retries: 0,
  sasl: { mechanism: mechanism as 'PLAIN', username: username!, password: password! },
  ...(caFile === undefined ? {} : { tls: { ca: readFileSync(caFile) } }),
});
try {
  const messages = ['a', 'b', 'c'].map((value) => ({ topic: topic!, partition: 0, value }));
  const result = await producer.send({ messages, acks: ProduceAcks.ALL });
  console.log(JSON.stringify({ offsets: (result.offsets ?? []).map((o) => String(o.offset)) }));
} catch (error) {
  // platformatic nests errors (aggregates, causes); its own carry a PLT_KFK_* code.
  const codes: string[] = [];
  const messages: string[] = [];
  const walk = (e: unknown, depth: number): void => {
    if (typeof e !== 'object' || e === null || depth > 5) return;
    const x = e as { code?: unknown; message?: unknown; errors?: unknown[]; cause?: unknown };
    if (typeof x.code === 'string') codes.push(x.code);
    if (typeof x.message === 'string') messages.push(x.message);
    for (const inner of x.errors ?? []) walk(inner, depth + 1);
    walk(x.cause, depth + 1);
  };
  walk(error, 0);
  console.log(JSON.stringify({ error: codes.join(','), message: messages.join(' | ') }));
} finally {
  await producer.close();
}
