/**
 * A time window: `startMs` inclusive, `endMs` exclusive, as Kafka Streams' TimeWindow. A record at
 * timestamp t is in the window when `startMs <= t < endMs`.
 */
export interface TimeWindow {
  readonly startMs: number;
  readonly endMs: number;
}

/** The key of a windowed table: the grouping key and the window it aggregates (Kafka Streams' `Windowed<K>`). */
export interface Windowed<K> {
  readonly key: K;
  readonly window: TimeWindow;
}

/** The window of `sizeMs` starting at `startMs`; its end saturates at the largest safe integer. */
export function timeWindow(startMs: number, sizeMs: number): TimeWindow {
  return { startMs, endMs: Math.min(startMs + sizeMs, Number.MAX_SAFE_INTEGER) };
}
