import type { Serde } from '../../sdk/serde/serde.ts';
import type { ProcessorSupplier } from '../topology/processor.ts';
import { nullable } from '../topology/nullable-serde.ts';
import type { StreamRecord } from '../topology/stream-record.ts';
import type { TopologyBuilder } from '../topology/topology-builder.ts';
import { TopologyError } from '../topology/topology-error.ts';
import { passThroughProcessor } from './stateless-processors.ts';
import { RetryRoute, retryingProcessor, type RetryNodes } from './retry-processor.ts';

export { RetryHeader } from './retry-processor.ts';

/**
 * A stage's retry ladder: a record whose step fails is moved to tier 1, read back once
 * `delaysMs[0]` has passed and the step run again; failing again it moves to tier 2, and so on;
 * failing after the last tier it goes to the dead-letter topic. Each move is written in the same
 * transaction as the stage's outputs and the input's offset (under exactly-once), so a record is
 * never both retried and processed, never lost and never duplicated.
 *
 * Tier n is the internal topic `<applicationId>-<name>-retry-<n>`, created by the runtime with the
 * partition count of the stage's input (task p writes and reads partition p of every tier). A tier
 * has one delay, so its records become due in the order they were appended: the runtime holds a
 * tier's partition until its first record is due, without holding back the stage's input or the
 * other tiers, and keeps nothing in memory for it.
 */
export interface RetryLadder<K, V> {
  /** The delay of each tier in milliseconds (e.g. `[1_000, 10_000, 60_000]`): at least one, at most 20. */
  delaysMs: readonly number[];
  /**
   * Where a record goes after failing in the last tier: a topic that exists (its partition is
   * chosen from the key). Default: the application's dead-letter topic `<applicationId>-dlq`.
   */
  deadLetterTopic?: string;
  /**
   * Which failures are retried (default: every one). Another failure fails the record as without a
   * ladder: the application's failure policy. A failed Effect arrives as what `Effect.runPromise` rejects with.
   */
  retryOn?: (error: unknown) => boolean;
  /** The tier topics' stem, `<applicationId>-<name>-retry-<n>` (default: the stage's name; name the stage or the ladder so the topics outlive changes to the topology). */
  name?: string;
  /** Serdes of the stage's input on the tier topics (default: the stream's). */
  key?: Serde<K>;
  value?: Serde<V>;
}

/** The option every stage that can be retried takes. */
export interface RetryOption<K, V> {
  /** Retry the stage's failed records through delayed tiers, then dead-letter them (see `RetryLadder`). */
  retry?: RetryLadder<K, V>;
}

const MAX_TIERS = 20;

/** The suffix of tier `n` (1-based) of a ladder named `stem`. */
function retryTierSuffix(stem: string, tier: number): string {
  return `${stem}-retry-${tier}`;
}

/**
 * Adds a retried stage: the processor `name` running the stage's step, a source reading its tiers
 * back into it, a sink per tier and one to the dead-letter topic, and the pass-through node
 * `<name>-retried` that the stage's output comes out of. Returns that node's name.
 */
export function addRetriedStage<K, V>(
  topology: TopologyBuilder,
  name: string,
  supplier: ProcessorSupplier<K, V, unknown, unknown>,
  parent: string,
  stores: readonly string[],
  serdes: { key: Serde<K> | undefined; value: Serde<V> | undefined },
  ladder: RetryLadder<K, V>,
): string {
  const { delaysMs } = ladder;
  if (!Array.isArray(delaysMs) || delaysMs.length === 0 || delaysMs.length > MAX_TIERS) {
    throw new TopologyError(`the retry ladder of "${name}" needs 1 to ${MAX_TIERS} delays (delaysMs), got ${Array.isArray(delaysMs) ? delaysMs.length : String(delaysMs)}`);
  }
  for (const delayMs of delaysMs) {
    if (!Number.isSafeInteger(delayMs) || delayMs < 0) throw new TopologyError(`the retry ladder of "${name}": every delay must be an integer of 0 or more milliseconds, got ${delayMs}`);
  }
  if (ladder.deadLetterTopic !== undefined && (typeof ladder.deadLetterTopic !== 'string' || ladder.deadLetterTopic === '')) {
    throw new TopologyError(`the retry ladder of "${name}": deadLetterTopic must be a topic name`);
  }
  const key = ladder.key ?? serdes.key;
  const value = ladder.value ?? serdes.value;
  if (key === undefined || value === undefined) {
    throw new TopologyError(`the retry ladder of "${name}" writes the stage's input to its tier topics and needs its ${key === undefined ? 'key' : 'value'} serde: give it to the ladder or to the operator before`);
  }
  const stem = ladder.name ?? name;
  const tiers = delaysMs.map((delayMs, i) => {
    const suffix = retryTierSuffix(stem, i + 1);
    topology.addRepartitionTopic({ name: suffix, partitions: undefined, feedback: true, retry: { stage: name, tier: i + 1, delayMs } });
    return { suffix, sink: `${name}-retry-${i + 1}-sink` };
  });
  const nodes: RetryNodes = {
    stage: name,
    output: `${name}-retried`,
    tierSuffixes: tiers.map((t) => t.suffix),
    tierSinks: tiers.map((t) => t.sink),
    deadLetterSink: `${name}-dead-letter-sink`,
    deadLetterTopic: ladder.deadLetterTopic,
  };
  const source = `${name}-retry-source`;
  const wire = { key: nullable(key) as Serde<unknown>, value: nullable(value) as Serde<unknown> };
  topology.addSource(source, tiers.map((t) => ({ name: t.suffix, internal: true })), wire);
  topology.addProcessor(name, retryingProcessor(supplier as ProcessorSupplier<unknown, unknown, unknown, unknown>, nodes, ladder.retryOn ?? (() => true)), [parent, source], stores);
  topology.addProcessor(nodes.output, passThroughProcessor(), [name]);
  const toTier = (record: StreamRecord<unknown, unknown>): number | undefined => (record instanceof RetryRoute ? record.partition : undefined);
  for (const tier of tiers) topology.addSink(tier.sink, { name: tier.suffix, internal: true }, [name], { ...wire, partitioner: toTier });
  const deadLetter = ladder.deadLetterTopic ?? ((record: StreamRecord<unknown, unknown>) => (record as RetryRoute<unknown, unknown>).topic);
  topology.addSink(nodes.deadLetterSink, deadLetter, [name], wire);
  return nodes.output;
}
