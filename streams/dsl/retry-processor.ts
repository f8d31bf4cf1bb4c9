import type { RecordHeader } from '../../sdk/record/record.ts';
import { isPromiseLike, type Processor, type ProcessorContext, type ProcessorSupplier, type ProcessResult, taskIdText } from '../topology/processor.ts';
import { StreamRecord } from '../topology/stream-record.ts';
import { deadLetterTopic, DeadLetterHeader } from '../runtime/failure-policy.ts';

/**
 * Headers of a record on a retry tier, after the record's own headers: how often and when it
 * failed, why, and where it first came from. A dead-lettered record carries the same, with
 * `rill.error.kind` = `retries-exhausted`. The stage sees the record with its own headers only.
 */
export const RetryHeader = {
  /** Failed attempts so far, decimal text: n on tier n, the tier count + 1 on the dead-letter topic. */
  attempts: 'rill.retry.attempts',
  /** When the last attempt failed: wall-clock milliseconds, decimal text. The record is due this plus its tier's delay. */
  failedAtMs: 'rill.retry.failed-at-ms',
  /** The retried stage's name. */
  stage: 'rill.retry.stage',
  /** How many of the headers are the record's own (they come first), decimal text. */
  ownHeaders: 'rill.retry.own-headers',
} as const;

/** The nodes around a retried stage (`addRetriedStage`). */
export interface RetryNodes {
  readonly stage: string;
  /** The pass-through node the stage's output comes out of. */
  readonly output: string;
  /** Tier topic suffixes, tier 1 first. */
  readonly tierSuffixes: readonly string[];
  readonly tierSinks: readonly string[];
  readonly deadLetterSink: string;
  /** The ladder's own dead-letter topic; undefined: the application's. */
  readonly deadLetterTopic: string | undefined;
}

/** A record on its way to a tier (to partition `partition`) or to the dead-letter topic `topic`. */
export class RetryRoute<K, V> extends StreamRecord<K, V> {
  constructor(
    record: StreamRecord<K, V>,
    headers: readonly RecordHeader[],
    readonly topic: string,
    readonly partition: number | undefined,
  ) {
    super(record.key, record.value, record.timestamp, headers, record.metadata);
  }
}

/** An error a node below the stage threw while the stage forwarded to it: not the stage's failure, so never retried. */
class DownstreamFailure {
  constructor(readonly error: unknown) {}
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

function header(key: string, value: string): RecordHeader {
  return { key, value: encoder.encode(value) };
}

function headerText(headers: readonly RecordHeader[], key: string): string | undefined {
  for (let i = headers.length - 1; i >= 0; i--) {
    const h = headers[i]!;
    if (h.key === key) return h.value === null ? undefined : decoder.decode(h.value);
  }
  return undefined;
}

/** What a record read back from a tier says about its earlier failures. */
interface Earlier {
  attempts: number;
  own: readonly RecordHeader[];
  /** Its origin headers (source topic, partition, offset), kept from the first failure. */
  origin: readonly RecordHeader[];
}

const ORIGIN_KEYS: ReadonlySet<string> = new Set([DeadLetterHeader.topic, DeadLetterHeader.partition, DeadLetterHeader.offset]);

/**
 * Runs the stage's step; when it throws or its promise rejects with an error `retryOn` accepts,
 * the stage's input record goes to the next tier (or, past the last, to the dead-letter topic)
 * instead of failing its input record. The step forwards to the stage's output node only; an error
 * of the nodes below it propagates as without a ladder. A record read back from a tier reaches the
 * step with its own headers, and with the stores as they are now.
 */
export function retryingProcessor(step: ProcessorSupplier<unknown, unknown, unknown, unknown>, nodes: RetryNodes, retryOn: (error: unknown) => boolean): ProcessorSupplier<unknown, unknown, unknown, unknown> {
  return () => {
    const inner = step();
    let ctx!: ProcessorContext<unknown, unknown>;
    let tierTopics: ReadonlySet<string>;
    let deadLetter: string;
    const view: ProcessorContext<unknown, unknown> = {
      get applicationId() {
        return ctx.applicationId;
      },
      get taskId() {
        return ctx.taskId;
      },
      forward: (record, childName) => {
        if (childName !== undefined) throw new Error(`stage "${nodes.stage}" has a retry ladder: it forwards to all its children, not to "${childName}"`);
        try {
          ctx.forward(record, nodes.output);
        } catch (error) {
          throw new DownstreamFailure(error);
        }
      },
      getStateStore: (name) => ctx.getStateStore(name),
      currentStreamTimeMs: () => ctx.currentStreamTimeMs(),
      currentSystemTimeMs: () => ctx.currentSystemTimeMs(),
      dropLateRecord: (record, reason) => ctx.dropLateRecord(record, reason),
      schedule: (intervalMs, type, punctuator) => ctx.schedule(intervalMs, type, punctuator),
    };

    const earlier = (record: StreamRecord<unknown, unknown>): Earlier | undefined => {
      const from = record.metadata;
      if (from === undefined || !tierTopics.has(from.topic)) return undefined;
      const headers = record.headers;
      const ownCount = Number(headerText(headers, RetryHeader.ownHeaders) ?? headers.length);
      const own = headers.slice(0, Number.isSafeInteger(ownCount) && ownCount >= 0 ? ownCount : headers.length);
      const origin = headers.slice(own.length).filter((h) => ORIGIN_KEYS.has(h.key));
      return { attempts: Number(headerText(headers, RetryHeader.attempts) ?? 0) || 0, own, origin };
    };

    const failed = (record: StreamRecord<unknown, unknown>, before: Earlier | undefined, error: unknown): void => {
      if (error instanceof DownstreamFailure) throw error.error;
      if (!retryOn(error)) throw error;
      const attempts = (before?.attempts ?? 0) + 1;
      const own = before?.own ?? record.headers;
      const from = record.metadata;
      const origin =
        before?.origin ?? (from === undefined ? [] : [header(DeadLetterHeader.topic, from.topic), header(DeadLetterHeader.partition, String(from.partition)), header(DeadLetterHeader.offset, String(from.offset))]);
      const exhausted = attempts > nodes.tierSinks.length;
      const headers: RecordHeader[] = [
        ...own,
        header(DeadLetterHeader.error, error instanceof Error ? error.message : String(error)),
        header(DeadLetterHeader.errorKind, exhausted ? 'retries-exhausted' : 'processing'),
        ...origin,
        header(DeadLetterHeader.task, taskIdText(ctx.taskId)),
        header(RetryHeader.stage, nodes.stage),
        header(RetryHeader.attempts, String(attempts)),
        header(RetryHeader.failedAtMs, String(ctx.currentSystemTimeMs())),
        header(RetryHeader.ownHeaders, String(own.length)),
      ];
      if (exhausted) ctx.forward(new RetryRoute(record, headers, deadLetter, undefined), nodes.deadLetterSink);
      else ctx.forward(new RetryRoute(record, headers, '', ctx.taskId.partition), nodes.tierSinks[attempts - 1]!);
    };

    const processor: Processor<unknown, unknown, unknown, unknown> = {
      init(context) {
        ctx = context;
        tierTopics = new Set(nodes.tierSuffixes.map((suffix) => `${context.applicationId}-${suffix}`));
        deadLetter = nodes.deadLetterTopic ?? deadLetterTopic(context.applicationId);
        inner.init?.(view);
      },
      process(record): ProcessResult {
        const before = earlier(record);
        const input = before === undefined ? record : record.withHeaders(before.own);
        let result: ProcessResult;
        try {
          result = inner.process(input);
        } catch (error) {
          failed(record, before, error);
          return undefined;
        }
        if (result === undefined || !isPromiseLike(result)) return result;
        return result.then(undefined, (error: unknown) => failed(record, before, error));
      },
      close() {
        inner.close?.();
      },
    };
    return processor;
  };
}
