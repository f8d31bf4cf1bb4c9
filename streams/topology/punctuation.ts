import type { ProcessResult } from './processor.ts';

/**
 * What drives a punctuator (Kafka Streams' PunctuationType): the task's stream time (the largest
 * record timestamp it has seen, moved only by records) or the wall clock.
 */
export const PunctuationType = {
  STREAM_TIME: 'STREAM_TIME',
  WALL_CLOCK_TIME: 'WALL_CLOCK_TIME',
} as const;
export type PunctuationTypeValue = (typeof PunctuationType)[keyof typeof PunctuationType];

/**
 * A scheduled callback; it gets the punctuation's timestamp (the task's stream time, or the wall
 * clock). It may forward records (build them with `new StreamRecord(...)`), write to stores, and
 * return a promise the task then follows like a record's; all of it commits with the task.
 */
export type Punctuator = (timestampMs: number) => ProcessResult;

/** A schedule's handle: `cancel()` stops it (also from inside its own punctuator). */
export interface Cancellable {
  cancel(): void;
}
