import { TopologyError } from '../topology/topology.ts';

/** What a suppression buffer does once it holds more than its bounds allow. */
export const BufferFullPolicy = {
  /** Stop the application with a `StreamsError` (code `SUPPRESSION_BUFFER_FULL`) naming the operator and its store. */
  shutDown: 'shutDown',
  /** Emit the oldest buffered keys early, before their time, until the buffer is within its bounds again. */
  emitEarly: 'emitEarly',
} as const;
export type BufferFullPolicyValue = (typeof BufferFullPolicy)[keyof typeof BufferFullPolicy];

interface BufferSettings {
  readonly maxRecords: number;
  readonly maxBytes: number;
  readonly logged: boolean;
  readonly changelogConfig: Readonly<Record<string, string>>;
}

const UNBOUNDED: BufferSettings = { maxRecords: Infinity, maxBytes: Infinity, logged: true, changelogConfig: {} };

function checkedBound(what: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 1) throw new TopologyError(`a suppression buffer's ${what} must be a positive integer, got ${value}`);
  return value;
}

/**
 * How much a suppression buffers and what happens when it is full (Kafka Streams' BufferConfig).
 * `maxRecords` counts buffered keys (one entry per key however many updates it had); `maxBytes`
 * counts each entry's serialized key, new value, prior value and headers. The buffer is a store
 * with a compacted changelog (`<applicationId>-<store>-changelog`) unless `withLoggingDisabled()`.
 */
abstract class BufferConfigBase<Self> {
  /** @internal */
  constructor(readonly settings: BufferSettings) {}

  /** @internal */
  abstract readonly whenFull: BufferFullPolicyValue;

  protected abstract with(settings: BufferSettings): Self;

  /** At most `maxRecords` keys buffered. */
  withMaxRecords(maxRecords: number): Self {
    return this.with({ ...this.settings, maxRecords: checkedBound('maxRecords', maxRecords) });
  }

  /** At most `maxBytes` bytes buffered (serialized keys, values and headers). */
  withMaxBytes(maxBytes: number): Self {
    return this.with({ ...this.settings, maxBytes: checkedBound('maxBytes', maxBytes) });
  }

  /** No bound on keys or bytes: the buffer holds what the time limit makes it hold, in memory. */
  withNoBound(): StrictBufferConfig {
    return new StrictBufferConfig({ ...this.settings, maxRecords: Infinity, maxBytes: Infinity });
  }

  /** When full, the application stops with a `StreamsError` (SUPPRESSION_BUFFER_FULL): never an early result. */
  shutDownWhenFull(): StrictBufferConfig {
    return new StrictBufferConfig(this.settings);
  }

  /** When full, the oldest keys are emitted early until it is within bounds (not allowed for `untilWindowCloses`). */
  emitEarlyWhenFull(): EagerBufferConfig {
    return new EagerBufferConfig(this.settings);
  }

  /** No changelog: the buffer is lost in a crash or a rebalance (its keys' pending updates with it). */
  withLoggingDisabled(): Self {
    return this.with({ ...this.settings, logged: false });
  }

  /** Changelog topic configs beyond `cleanup.policy=compact`. */
  withLoggingEnabled(changelogConfig: Readonly<Record<string, string>>): Self {
    return this.with({ ...this.settings, logged: true, changelogConfig: { ...changelogConfig } });
  }
}

/** A buffer that never emits early: when full, the application stops. The only kind `untilWindowCloses` takes. */
export class StrictBufferConfig extends BufferConfigBase<StrictBufferConfig> {
  /** @internal */
  readonly whenFull = BufferFullPolicy.shutDown;

  protected with(settings: BufferSettings): StrictBufferConfig {
    return new StrictBufferConfig(settings);
  }
}

/** A buffer that emits its oldest keys early when full: fewer updates downstream, not only final ones. */
export class EagerBufferConfig extends BufferConfigBase<EagerBufferConfig> {
  /** @internal */
  readonly whenFull = BufferFullPolicy.emitEarly;

  protected with(settings: BufferSettings): EagerBufferConfig {
    return new EagerBufferConfig(settings);
  }
}

export type AnyBufferConfig = StrictBufferConfig | EagerBufferConfig;

/** Kafka Streams' `BufferConfig` factories. */
export const BufferConfig = {
  /** At most `maxRecords` keys; emits the oldest early when full unless `.shutDownWhenFull()`. */
  maxRecords: (maxRecords: number): EagerBufferConfig => new EagerBufferConfig(UNBOUNDED).withMaxRecords(maxRecords),
  /** At most `maxBytes` bytes; emits the oldest early when full unless `.shutDownWhenFull()`. */
  maxBytes: (maxBytes: number): EagerBufferConfig => new EagerBufferConfig(UNBOUNDED).withMaxBytes(maxBytes),
  /** No bound: holds whatever the time limit makes it hold (memory is the limit). */
  unbounded: (): StrictBufferConfig => new StrictBufferConfig(UNBOUNDED),
} as const;

/** `Suppressed.untilWindowCloses(...)`: one final result per window. */
export interface UntilWindowCloses {
  readonly kind: 'untilWindowCloses';
  readonly bufferConfig: StrictBufferConfig;
  /** The operator's name; its buffer store is `<name>-store`. */
  readonly name: string | undefined;
}

/** `Suppressed.untilTimeLimit(...)`: each key's latest value at most once per `timeToWaitMs` of stream time. */
export interface UntilTimeLimit {
  readonly kind: 'untilTimeLimit';
  readonly timeToWaitMs: number;
  readonly bufferConfig: AnyBufferConfig;
  readonly name: string | undefined;
}

export type SuppressedConfig = UntilWindowCloses | UntilTimeLimit;

/**
 * How `KTable.suppress(...)` holds back a table's updates (Kafka Streams' Suppressed).
 *
 * - `untilWindowCloses(bufferConfig)`, on a windowed table (from `windowedBy(...).count/reduce/
 *   aggregate`): each window's result goes downstream once, when the window closes (stream time
 *   reaches its end plus the grace of the windows that built the table, plus the inactivity gap
 *   for session windows, which a record within the gap extends), and never again; nothing
 *   for a window still open. Takes a strict buffer only (`unbounded()` or `...shutDownWhenFull()`),
 *   since emitting early would break the promise of one final result.
 * - `untilTimeLimit(timeToWaitMs, bufferConfig)`, on any table: a key's updates are held until its
 *   oldest held update is `timeToWaitMs` older than stream time, then its latest value goes (the
 *   wait starts at a key's first held update and is not restarted by later ones).
 */
export const Suppressed = {
  untilWindowCloses: (bufferConfig: StrictBufferConfig, options?: { name?: string }): UntilWindowCloses => ({ kind: 'untilWindowCloses', bufferConfig, name: options?.name }),
  untilTimeLimit: (timeToWaitMs: number, bufferConfig: AnyBufferConfig, options?: { name?: string }): UntilTimeLimit => {
    if (!Number.isSafeInteger(timeToWaitMs) || timeToWaitMs < 0) throw new TopologyError(`untilTimeLimit's time to wait must be a non-negative integer of milliseconds, got ${timeToWaitMs}`);
    return { kind: 'untilTimeLimit', timeToWaitMs, bufferConfig, name: options?.name };
  },
} as const;
