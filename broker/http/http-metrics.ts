import type { Broker } from '../broker.ts';
import { MetricsRegistry } from './metrics-registry.ts';

/** The metrics the HTTP API exports on `/metrics`, with broker state sampled at scrape time. */
export function createHttpMetrics(broker: Broker) {
  const registry = new MetricsRegistry();
  const metrics = {
    registry,
    requests: registry.counter('rill_http_requests_total', 'HTTP requests by route, method and status.'),
    requestSeconds: registry.histogram('rill_http_request_duration_seconds', 'HTTP request latency by route.'),
    produceRecords: registry.counter('rill_produce_records_total', 'Records appended through the HTTP API, by topic.'),
    produceBytes: registry.counter('rill_produce_bytes_total', 'Record batch bytes appended through the HTTP API, by topic.'),
    produceSeconds: registry.histogram('rill_produce_duration_seconds', 'Time from a validated produce request to its acknowledgement, by topic.'),
    fetchRecords: registry.counter('rill_fetch_records_total', 'Records served by HTTP reads and live tails, by topic.'),
    fetchBytes: registry.counter('rill_fetch_bytes_total', 'Record batch bytes read for HTTP reads and live tails, by topic.'),
    fetchSeconds: registry.histogram('rill_fetch_duration_seconds', 'HTTP read latency, by topic.'),
    rejected: registry.counter('rill_http_rejected_records_total', 'Records in produce requests that were rejected, by topic and reason.'),
    idempotentReplays: registry.counter('rill_http_idempotent_replays_total', 'Produce requests answered from the idempotency store.'),
    idempotencyKeys: registry.gauge('rill_http_idempotency_keys', 'Idempotency keys held in memory.'),
    idempotencyEvicted: registry.gauge('rill_http_idempotency_evicted_keys', 'Idempotency keys forgotten early because the in-memory bound was reached.'),
    streams: registry.gauge('rill_http_sse_streams', 'Open server-sent-event live tails.'),
    partitionSizeBytes: registry.gauge('rill_partition_size_bytes', 'Bytes on disk per partition.'),
    partitionHighWatermark: registry.gauge('rill_partition_high_watermark', 'High watermark per partition.'),
    partitionLogStartOffset: registry.gauge('rill_partition_log_start_offset', 'Log start offset per partition.'),
    groupLag: registry.gauge('rill_group_lag', 'Records between a group\'s committed offset and the high watermark, per partition.'),
    transactionsBegun: registry.counter('rill_transactions_begun_total', 'Transactions begun (their first AddPartitionsToTxn or AddOffsetsToTxn) since the broker started.'),
    transactionsCommitted: registry.counter('rill_transactions_committed_total', 'Transactions committed (markers written) since the broker started.'),
    transactionsAborted: registry.counter('rill_transactions_aborted_total', 'Transactions aborted since the broker started, timed-out ones included.'),
    transactionsTimedOut: registry.counter('rill_transactions_timed_out_total', 'Transactions aborted by the coordinator because they stayed open past their timeout.'),
  };
  metrics.streams.set({}, 0);
  registry.onCollect(() => {
    for (const gauge of [metrics.partitionSizeBytes, metrics.partitionHighWatermark, metrics.partitionLogStartOffset]) gauge.reset();
    for (const topic of broker.listTopics({ includeInternal: true })) {
      for (const p of broker.describeTopic(topic).partitions) {
        const labels = { topic, partition: String(p.partition) };
        metrics.partitionSizeBytes.set(labels, p.sizeBytes);
        metrics.partitionHighWatermark.set(labels, p.highWatermark);
        metrics.partitionLogStartOffset.set(labels, p.logStartOffset);
      }
    }
    const txns = broker.transactions.stats;
    metrics.transactionsBegun.setTotal({}, txns.begun);
    metrics.transactionsCommitted.setTotal({}, txns.committed);
    metrics.transactionsAborted.setTotal({}, txns.aborted);
    metrics.transactionsTimedOut.setTotal({}, txns.timedOut);
    metrics.groupLag.reset();
    for (const { groupId } of broker.groups.listGroups()) {
      for (const o of broker.groups.describeGroup(groupId).offsets) {
        metrics.groupLag.set({ group: groupId, topic: o.topic, partition: String(o.partition) }, o.lag);
      }
    }
  });
  return metrics;
}

export type HttpMetrics = ReturnType<typeof createHttpMetrics>;
