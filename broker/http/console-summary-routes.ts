import type { Hono } from 'hono';
import { CleanerSummaryBuilder, type CleanerSummary } from './cleaner-summary.ts';
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
  /**
   * The Kafka listener's wire totals since it started, over every topic (the figures of
   * `rill_kafka_*_total`); null when no Kafka listener runs in the broker's process.
   */
  kafka: KafkaTrafficSummary | null;
  /** The log cleaner over these topics' compacted partitions. */
  cleaner: CleanerSummary;
}

export interface KafkaTrafficSummary {
  receivedBytes: number;
  sentBytes: number;
  /** Requests read, by API name (`Produce`, `Fetch`, ...). */
  requests: Record<string, number>;
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
    const traffic = ctx.options.kafkaTraffic;
    const cleaner = new CleanerSummaryBuilder();
    const totals = {
      topics: 0,
      partitions: 0,
      offlinePartitions: 0,
      sizeBytes: 0,
      recordsAppended: 0,
      httpProducedRecords: 0,
      httpProducedBytes: 0,
      httpFetchedRecords: 0,
      httpFetchedBytes: 0,
    };
    for (const topic of broker.listTopics()) {
      if (!allows(principal, 'read', topic)) continue;
      totals.topics++;
      const { minCleanableDirtyRatio } = broker.topicLayout(topic).config;
      for (const p of broker.describeTopic(topic).partitions) {
        totals.partitions++;
        if (p.offline) totals.offlinePartitions++;
        totals.sizeBytes += p.sizeBytes;
        totals.recordsAppended += p.highWatermark;
        if (p.cleaner !== undefined) cleaner.add(topic, p.partition, minCleanableDirtyRatio, p.cleaner);
      }
      totals.httpProducedRecords += metrics.produceRecords.current({ topic });
      totals.httpProducedBytes += metrics.produceBytes.current({ topic });
      totals.httpFetchedRecords += metrics.fetchRecords.current({ topic });
      totals.httpFetchedBytes += metrics.fetchBytes.current({ topic });
    }
    const summary: BrokerSummary = {
      timeMs: ctx.options.nowMs(),
      ...totals,
      groups: broker.groups.listGroups().filter((g) => groupListed(principal, g.groupId)).length,
      kafka:
        traffic === undefined
          ? null
          : { receivedBytes: traffic.receivedBytes, sentBytes: traffic.sentBytes, requests: Object.fromEntries(traffic.requestsByApi()) },
      cleaner: cleaner.summary(),
    };
    return respond(c, summary);
  });
}
