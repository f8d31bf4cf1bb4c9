import type { Broker } from '../broker.ts';
import type { KafkaTrafficTotals } from '../kafka/kafka-traffic.ts';
import { MetricsRegistry } from './metrics-registry.ts';

/** The metrics the HTTP API exports on `/metrics`, with broker state sampled at scrape time. */
export function createHttpMetrics(broker: Broker, kafkaTraffic: KafkaTrafficTotals | undefined) {
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
    cleanerFailed: registry.gauge('rill_cleaner_failed', 'Whether cleaning of a compacted partition failed (1) and stopped until the broker restarts.'),
    cleanerDirtyRatio: registry.gauge('rill_cleaner_dirty_ratio', 'Share of a compacted partition not yet cleaned, at the cleaner\'s last look.'),
    cleanerCleanableBytes: registry.gauge('rill_cleaner_cleanable_bytes', 'Bytes of a compacted partition the cleaner could clean now.'),
    cleanerFirstDirtyOffset: registry.gauge('rill_cleaner_first_dirty_offset', 'Where the next cleaning pass of a compacted partition starts deduplicating.'),
    cleanerPasses: registry.counter('rill_cleaner_passes_total', 'Cleaning passes over a compacted partition since the broker started.'),
    cleanerErrors: registry.counter('rill_cleaner_errors_total', 'Cleaning passes of a compacted partition that failed.'),
    cleanerBytesRead: registry.counter('rill_cleaner_read_bytes_total', 'Segment bytes the cleaner read, per partition.'),
    cleanerBytesWritten: registry.counter('rill_cleaner_written_bytes_total', 'Cleaned segment bytes the cleaner wrote, per partition.'),
    cleanerRecordsRemoved: registry.counter('rill_cleaner_removed_records_total', 'Records the cleaner removed, per partition.'),
    cleanerLastPassSeconds: registry.gauge('rill_cleaner_last_pass_duration_seconds', 'How long the last cleaning pass over a partition took.'),
    cleanerLastPassBytesRead: registry.gauge('rill_cleaner_last_pass_read_bytes', 'Bytes the last cleaning pass over a partition read.'),
    cleanerLastPassBytesWritten: registry.gauge('rill_cleaner_last_pass_written_bytes', 'Bytes the last cleaning pass over a partition wrote.'),
    cleanerLastPassRecordsRemoved: registry.gauge('rill_cleaner_last_pass_removed_records', 'Records the last cleaning pass over a partition removed.'),
    cleanerLastPassBufferUtilization: registry.gauge('rill_cleaner_last_pass_buffer_utilization', 'Share of the offset map the last cleaning pass over a partition used.'),
    fetchSessions: registry.gauge('rill_fetch_sessions', 'Kafka fetch sessions (KIP-227) the broker holds.'),
    fetchSessionEvictions: registry.counter('rill_fetch_session_evictions_total', 'Fetch sessions evicted to make room for new ones since the broker started.'),
    transactionsBegun: registry.counter('rill_transactions_begun_total', 'Transactions begun (their first AddPartitionsToTxn or AddOffsetsToTxn) since the broker started.'),
    transactionsCommitted: registry.counter('rill_transactions_committed_total', 'Transactions committed (markers written) since the broker started.'),
    transactionsAborted: registry.counter('rill_transactions_aborted_total', 'Transactions aborted since the broker started, timed-out ones included.'),
    transactionsTimedOut: registry.counter('rill_transactions_timed_out_total', 'Transactions aborted by the coordinator because they stayed open past their timeout.'),
    transactionChecks: registry.counter('rill_transaction_checks_total', 'Check-back attempts the coordinator sent to a transaction\'s checker.'),
    transactionCheckAnswers: registry.counter('rill_transaction_check_answers_total', 'Check-back answers received, by status (commit, abort, unknown).'),
    transactionCheckOutcomes: registry.counter('rill_transaction_check_outcomes_total', 'Checked transactions completed, by result: commit, abort, and exhausted (the aborts that came after every attempt went unanswered).'),
    transactionChecksPending: registry.gauge('rill_transaction_checks_pending', 'Transactions waiting on a check-back now.'),
    kafkaReceivedBytes: registry.counter('rill_kafka_received_bytes_total', 'Kafka protocol bytes the Kafka listener received since it started.'),
    kafkaSentBytes: registry.counter('rill_kafka_sent_bytes_total', 'Kafka protocol bytes the Kafka listener sent since it started.'),
    kafkaRequests: registry.counter('rill_kafka_requests_total', 'Requests the Kafka listener read since it started, by API.'),
  };
  metrics.streams.set({}, 0);
  const cleanerGauges = [
    metrics.cleanerFailed,
    metrics.cleanerDirtyRatio,
    metrics.cleanerCleanableBytes,
    metrics.cleanerFirstDirtyOffset,
    metrics.cleanerLastPassSeconds,
    metrics.cleanerLastPassBytesRead,
    metrics.cleanerLastPassBytesWritten,
    metrics.cleanerLastPassRecordsRemoved,
    metrics.cleanerLastPassBufferUtilization,
  ];
  const cleanerCounters = [metrics.cleanerPasses, metrics.cleanerErrors, metrics.cleanerBytesRead, metrics.cleanerBytesWritten, metrics.cleanerRecordsRemoved];
  registry.onCollect(() => {
    for (const gauge of [metrics.partitionSizeBytes, metrics.partitionHighWatermark, metrics.partitionLogStartOffset, ...cleanerGauges]) gauge.reset();
    for (const counter of cleanerCounters) counter.reset();
    for (const topic of broker.listTopics({ includeInternal: true })) {
      for (const p of broker.describeTopic(topic).partitions) {
        const labels = { topic, partition: String(p.partition) };
        metrics.partitionSizeBytes.set(labels, p.sizeBytes);
        metrics.partitionHighWatermark.set(labels, p.highWatermark);
        metrics.partitionLogStartOffset.set(labels, p.logStartOffset);
        const cleaner = p.cleaner;
        if (cleaner === undefined) continue;
        metrics.cleanerFailed.set(labels, cleaner.state === 'failed' ? 1 : 0);
        metrics.cleanerDirtyRatio.set(labels, cleaner.dirtyRatio);
        metrics.cleanerCleanableBytes.set(labels, cleaner.cleanableBytes);
        metrics.cleanerFirstDirtyOffset.set(labels, cleaner.firstDirtyOffset);
        metrics.cleanerPasses.setTotal(labels, cleaner.passes);
        metrics.cleanerErrors.setTotal(labels, cleaner.errors);
        metrics.cleanerBytesRead.setTotal(labels, cleaner.totals.bytesRead);
        metrics.cleanerBytesWritten.setTotal(labels, cleaner.totals.bytesWritten);
        metrics.cleanerRecordsRemoved.setTotal(labels, cleaner.totals.recordsRemoved);
        const last = cleaner.lastPass;
        if (last === null) continue;
        metrics.cleanerLastPassSeconds.set(labels, last.durationMs / 1000);
        metrics.cleanerLastPassBytesRead.set(labels, last.bytesRead);
        metrics.cleanerLastPassBytesWritten.set(labels, last.bytesWritten);
        metrics.cleanerLastPassRecordsRemoved.set(labels, last.recordsRemoved);
        metrics.cleanerLastPassBufferUtilization.set(labels, last.bufferUtilization);
      }
    }
    metrics.fetchSessions.set({}, broker.fetchSessions.size);
    metrics.fetchSessionEvictions.setTotal({}, broker.fetchSessions.evictions);
    const txns = broker.transactions.stats;
    metrics.transactionsBegun.setTotal({}, txns.begun);
    metrics.transactionsCommitted.setTotal({}, txns.committed);
    metrics.transactionsAborted.setTotal({}, txns.aborted);
    metrics.transactionsTimedOut.setTotal({}, txns.timedOut);
    const checks = broker.transactionChecks.stats;
    metrics.transactionChecks.setTotal({}, checks.checks);
    for (const [status, total] of Object.entries(checks.answers)) metrics.transactionCheckAnswers.setTotal({ status }, total);
    metrics.transactionCheckOutcomes.setTotal({ result: 'commit' }, checks.committed);
    metrics.transactionCheckOutcomes.setTotal({ result: 'abort' }, checks.aborted);
    metrics.transactionCheckOutcomes.setTotal({ result: 'exhausted' }, checks.exhausted);
    metrics.transactionChecksPending.set({}, broker.transactionChecks.pendingCount);
    if (kafkaTraffic !== undefined) {
      metrics.kafkaReceivedBytes.setTotal({}, kafkaTraffic.receivedBytes);
      metrics.kafkaSentBytes.setTotal({}, kafkaTraffic.sentBytes);
      for (const [api, total] of kafkaTraffic.requestsByApi()) metrics.kafkaRequests.setTotal({ api }, total);
    }
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
