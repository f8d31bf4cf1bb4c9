import type { Hono } from 'hono';
import { allows } from './http-auth.ts';
import type { HttpContext, HttpEnv } from './http-context.ts';
import { groupListed } from './group-access.ts';
import { respond } from './route-helpers.ts';

/** One sample of the broker's running totals, over the topics the caller may see. */
export interface BrokerSummary {
  /** When the sample was taken (ms since the epoch): rates are differences of two samples over their time apart. */
  timeMs: number;
  topics: number;
  partitions: number;
  offlinePartitions: number;
  groups: number;
  /** Bytes of these topics' logs on disk. */
  sizeBytes: number;
  /** Records ever appended to these topics over any protocol: the sum of their high watermarks. */
  recordsAppended: number;
  /** Records and batch bytes appended through the HTTP API since the broker started (`rill_produce_*_total`). */
  httpProducedRecords: number;
  httpProducedBytes: number;
  /** Records and batch bytes served by HTTP reads and live tails since the broker started (`rill_fetch_*_total`). */
  httpFetchedRecords: number;
  httpFetchedBytes: number;
}

/**
 * `GET /v1/summary`: the figures of `/metrics` the console's overview charts, as one JSON object,
 * counted over the topics and groups the caller's token may see (unlike `/metrics`, which is
 * unauthenticated but not filtered, so a deployment with tokens may keep it private).
 */
export function consoleSummaryRoutes(app: Hono<HttpEnv>, ctx: HttpContext): void {
  app.get('/v1/summary', (c) => {
    const principal = c.get('principal');
    const { broker, metrics } = ctx;
    const summary: BrokerSummary = {
      timeMs: ctx.options.nowMs(),
      topics: 0,
      partitions: 0,
      offlinePartitions: 0,
      groups: broker.groups.listGroups().filter((g) => groupListed(principal, g.groupId)).length,
      sizeBytes: 0,
      recordsAppended: 0,
      httpProducedRecords: 0,
      httpProducedBytes: 0,
      httpFetchedRecords: 0,
      httpFetchedBytes: 0,
    };
    for (const topic of broker.listTopics()) {
      if (!allows(principal, 'read', topic)) continue;
      summary.topics++;
      for (const p of broker.describeTopic(topic).partitions) {
        summary.partitions++;
        if (p.offline) summary.offlinePartitions++;
        summary.sizeBytes += p.sizeBytes;
        summary.recordsAppended += p.highWatermark;
      }
      summary.httpProducedRecords += metrics.produceRecords.current({ topic });
      summary.httpProducedBytes += metrics.produceBytes.current({ topic });
      summary.httpFetchedRecords += metrics.fetchRecords.current({ topic });
      summary.httpFetchedBytes += metrics.fetchBytes.current({ topic });
    }
    return respond(c, summary);
  });
}
