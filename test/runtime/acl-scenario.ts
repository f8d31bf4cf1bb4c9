import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../broker/broker.ts';
import { KafkaListener } from '../../broker/kafka/kafka-listener.ts';
import { AclOperation, AclPermission, Admin, PatternType, Producer, ResourceType, TcpTransport } from '../../sdk/mod.ts';
import { CLOSE_WITHOUT_GRACE_MS } from './close-without-grace.ts';

export interface AclReport {
  /** What alice, allowed to write `orders-*` by a prefixed ACL, got producing to orders-eu. */
  allowedProduce: string;
  /** What bob, named by no ACL, got producing to the same topic. */
  deniedProduce: string;
  /** The topics bob's Metadata request for every topic showed. */
  topicsBobSees: string[];
  /** Records on orders-eu after both tried: bob's write appended nothing. */
  recordsOnTopic: number;
  /** What bob got creating an ACL (cluster Alter). */
  deniedCreateAcls: string;
}

const outcome = (promise: Promise<unknown>): Promise<string> =>
  promise.then(
    () => 'ok',
    (error: { errorName?: string }) => error.errorName ?? String(error),
  );

/** The ACL authorizer behind a SASL listener, in this runtime: a prefixed allow, a principal with no ACL, Metadata filtering. */
export async function runAclScenario(): Promise<AclReport> {
  const dataDir = mkdtempSync(join(tmpdir(), 'rill-acl-runtime-'));
  const broker = await Broker.open({ config: { dataDir }, authorizer: { superUsers: ['User:admin'] } });
  let listener: KafkaListener | undefined;
  const transports: TcpTransport[] = [];
  try {
    for (const user of ['admin', 'alice', 'bob']) await broker.scramCredentials.setPassword(user, 'SCRAM-SHA-256', `${user}-secret`, 4096);
    listener = await KafkaListener.start(broker, { host: '127.0.0.1', port: 0, sasl: { mechanisms: ['SCRAM-SHA-256'], connectionsMaxReauthMs: 0 }, limits: { shutdownGraceMs: CLOSE_WITHOUT_GRACE_MS } });
    const as = (user: string): TcpTransport => {
      const transport = new TcpTransport({ bootstrapServers: [`127.0.0.1:${listener!.port}`], sasl: { mechanism: 'SCRAM-SHA-256', username: user, password: `${user}-secret` } });
      transports.push(transport);
      return transport;
    };
    const admin = new Admin(as('admin'));
    await admin.createTopics([{ name: 'orders-eu' }]);
    await admin.createAcls(
      [AclOperation.WRITE, AclOperation.DESCRIBE].map((operation) => ({
        resourceType: ResourceType.TOPIC,
        resourceName: 'orders-',
        patternType: PatternType.PREFIXED,
        principal: 'User:alice',
        host: '*',
        operation,
        permission: AclPermission.ALLOW,
      })),
    );
    const send = (user: string): Promise<string> => {
      const producer = new Producer(as(user), { idempotent: false });
      return outcome(producer.send({ topic: 'orders-eu', value: new TextEncoder().encode(user) } as never)).finally(() => producer.close());
    };
    const allowedProduce = await send('alice');
    const deniedProduce = await send('bob');
    const bob = as('bob');
    const topicsBobSees = await new Admin(bob).listTopics();
    const deniedCreateAcls = await outcome(
      new Admin(bob).createAcls([{ resourceType: ResourceType.TOPIC, resourceName: 'orders-eu', patternType: PatternType.LITERAL, principal: 'User:bob', host: '*', operation: AclOperation.WRITE, permission: AclPermission.ALLOW }]),
    );
    const recordsOnTopic = (await admin.topicOffsets('orders-eu'))[0]!.latest;
    return { allowedProduce, deniedProduce, topicsBobSees, recordsOnTopic, deniedCreateAcls };
  } finally {
    for (const transport of transports) await transport.close();
    await listener?.close();
    await broker.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
