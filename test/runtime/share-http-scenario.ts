import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Broker } from '../../broker/broker.ts';
import { createHttpApp } from '../../broker/http/http-app.ts';
import { serveHttp } from '../../broker/http/serve.ts';

export interface ShareHttpReport {
  /** Records each HTTP member accepted. */
  perMember: number[];
  /** Distinct offsets accepted over both members. */
  distinct: number;
  /** Records the dead-letter topic holds after one reject. */
  deadLetters: number;
  /** The delivery count of the released record when it came back. */
  redeliveredCount: number;
}

const COUNT = 30;

interface FetchedRecord {
  topic: string;
  partition: number;
  offset: number;
  deliveryCount: number;
  value: unknown;
}

/**
 * The HTTP share-group main path over a real server on 127.0.0.1: two members of one group read
 * one partition, each accepting what it gets; the first record the first member sees is released
 * once (and comes back with delivery count 2), one record is rejected into the dead-letter topic.
 */
export async function runShareHttpScenario(): Promise<ShareHttpReport> {
  const dir = mkdtempSync(join(tmpdir(), 'rill-share-http-'));
  const broker = await Broker.open({ config: { dataDir: dir }, shareGroups: { defaults: { autoOffsetReset: 'earliest' } } });
  const http = await createHttpApp(broker);
  const server = await serveHttp((request, env) => http.app.fetch(request, env), { host: '127.0.0.1', port: 0 });
  const base = `http://127.0.0.1:${server.port}`;
  const post = async (path: string, body: unknown): Promise<{ status: number; body: any }> => {
    const response = await fetch(`${base}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return { status: response.status, body: await response.json() };
  };
  try {
    await broker.createTopic('http-jobs', { partitions: 1 });
    const produced = await post('/v1/topics/http-jobs/records', { records: Array.from({ length: COUNT }, (_, i) => ({ value: { n: i } })) });
    if (produced.status !== 200) throw new Error(`produce answered ${produced.status}`);
    const members: string[] = [];
    for (let i = 0; i < 2; i++) {
      const joined = await post('/v1/share-groups/http-workers/members', { topics: ['http-jobs'] });
      if (joined.status !== 201) throw new Error(`join answered ${joined.status}: ${JSON.stringify(joined.body)}`);
      members.push(joined.body.memberId as string);
    }
    const accepted = new Set<number>();
    const perMember = [0, 0];
    let released = -1;
    let rejected = -1;
    let redeliveredCount = 0;
    while (accepted.size + (rejected >= 0 ? 1 : 0) < COUNT) {
      for (let m = 0; m < 2; m++) {
        const fetched = await post(`/v1/share-groups/http-workers/members/${members[m]}/fetch`, { maxRecords: 4, maxWaitMs: 200 });
        if (fetched.status !== 200) throw new Error(`fetch answered ${fetched.status}: ${JSON.stringify(fetched.body)}`);
        const acks = (fetched.body.records as FetchedRecord[]).map((r) => {
          let type = 'accept';
          if (released < 0) {
            released = r.offset;
            type = 'release';
          } else if (r.offset === released) {
            redeliveredCount = r.deliveryCount;
          } else if (rejected < 0) {
            rejected = r.offset;
            type = 'reject';
          }
          if (type === 'accept') {
            if (accepted.has(r.offset)) throw new Error(`offset ${r.offset} accepted twice`);
            accepted.add(r.offset);
            perMember[m]!++;
          }
          return { topic: r.topic, partition: r.partition, offset: r.offset, type };
        });
        if (acks.length === 0) continue;
        const acked = await post(`/v1/share-groups/http-workers/members/${members[m]}/acknowledgements`, { acknowledgements: acks });
        if (acked.status !== 200) throw new Error(`acknowledge answered ${acked.status}: ${JSON.stringify(acked.body)}`);
      }
    }
    const dlq = await fetch(`${base}/v1/topics/http-workers-dlq/partitions/0/records`);
    const deadLetters = ((await dlq.json()) as { records: unknown[] }).records.length;
    for (const memberId of members) await fetch(`${base}/v1/share-groups/http-workers/members/${memberId}`, { method: 'DELETE' });
    return { perMember, distinct: accepted.size, deadLetters, redeliveredCount };
  } finally {
    http.close();
    await server.close();
    await broker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
