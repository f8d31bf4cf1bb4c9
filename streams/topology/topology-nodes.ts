import type { Serde } from '../../sdk/serde/serde.ts';
import type { ProcessorSupplier } from './processor.ts';
import type { StreamRecord } from './stream-record.ts';

/**
 * A topic a node reads or writes. Internal topics (repartition topics) are named by their suffix
 * only; the runtime prefixes the application id (`<applicationId>-<suffix>`), so one topology can
 * run under several application ids.
 */
export interface TopicRef {
  readonly name: string;
  readonly internal: boolean;
}

export interface SourceNode {
  readonly kind: 'source';
  readonly name: string;
  readonly topics: readonly TopicRef[];
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
}

export interface ProcessorNode {
  readonly kind: 'processor';
  readonly name: string;
  readonly parents: readonly string[];
  readonly supplier: ProcessorSupplier<unknown, unknown, unknown, unknown>;
  /** Names of the stores the processor may use. */
  readonly stores: readonly string[];
}

/** Chooses a sink's topic per record (`to` with a function). */
export type TopicChooser = (record: StreamRecord<unknown, unknown>) => string;

/** Chooses a sink's partition per record, given the topic's partition count; undefined: the default (murmur2 of the key). */
export type SinkPartitioner = (record: StreamRecord<unknown, unknown>, partitions: number) => number | undefined;

export interface SinkNode {
  readonly kind: 'sink';
  readonly name: string;
  readonly parents: readonly string[];
  readonly topic: TopicRef | TopicChooser;
  readonly keySerde: Serde<unknown>;
  readonly valueSerde: Serde<unknown>;
  readonly partitioner: SinkPartitioner | undefined;
}

export type TopologyNode = SourceNode | ProcessorNode | SinkNode;

/** A repartition topic the topology writes and reads back; partitions unset: as many as its writers' tasks. */
export interface RepartitionTopicSpec {
  readonly name: string;
  readonly partitions: number | undefined;
  /**
   * Carries answers back to the sub-topology that sent the requests (a foreign-key join's response
   * topic): it closes a cycle between sub-topologies that records never go round (an answer makes
   * no new request), so the cycle and store-separation checks leave it out.
   */
  readonly feedback?: boolean;
  /**
   * A tier of a stage's retry ladder (`dsl/retry-ladder.ts`): written and read back by the stage's
   * own sub-topology (so also `feedback`), partitioned as its other sources, and read by the
   * runtime only once each record's delay after its failure has passed.
   */
  readonly retry?: RetryTierSpec;
}

/** What the runtime needs to know of a retry tier topic. */
export interface RetryTierSpec {
  /** The retried stage (a processor node). */
  readonly stage: string;
  /** 1 for the first tier: its records failed once. */
  readonly tier: number;
  /** A record of this tier is due this long after its last failure (header `rill.retry.failed-at-ms`). */
  readonly delayMs: number;
}
