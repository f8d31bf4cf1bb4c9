import type { RecordHeader } from '../../sdk/record/record.ts';
import { taskIdText } from '../topology/processor.ts';
import type { OutputRecord } from './record-collector.ts';
import type { RecordFailure } from './task.ts';

/** What happens to a record whose deserialization or processing failed. */
export type FailureAction = 'dlq' | 'skip' | 'fail';

/** What happens to a record dropped for arriving after its windows closed: it is always counted (the task's late-records metric). */
export type LateRecordAction = 'drop' | 'dlq';

export interface FailurePolicy {
  /** Default 'fail'. */
  deserialization?: FailureAction;
  /** Default 'fail'. */
  processing?: FailureAction;
  /** Default 'drop'. */
  lateRecords?: LateRecordAction;
}

/** The dead-letter topic of an application. */
export function deadLetterTopic(applicationId: string): string {
  return `${applicationId}-dlq`;
}

/**
 * Headers a dead-letter record carries, after the input record's own: why it failed and where it
 * came from, so it can be inspected and replayed.
 */
export const DeadLetterHeader = {
  error: 'rill.error',
  errorKind: 'rill.error.kind',
  topic: 'rill.source.topic',
  partition: 'rill.source.partition',
  offset: 'rill.source.offset',
  task: 'rill.task',
  /** For a failed punctuation (which has no input record): the processor whose punctuator failed. */
  punctuator: 'rill.punctuator',
} as const;

/** Stops the application: a record failed and the policy for its kind is 'fail'. */
export class RecordFailureError extends Error {
  override readonly name = 'RecordFailureError';

  constructor(readonly failure: RecordFailure) {
    const { job, punctuation } = failure;
    const what = punctuation === undefined ? `${failure.kind} of ${job.topic}-${job.partition} at offset ${job.offset}` : `punctuation of processor "${punctuation.node}" (${punctuation.type} ${punctuation.timestampMs})`;
    super(`${what} failed in task ${taskIdText(failure.taskId)}: ${messageOf(failure.error)}`, { cause: failure.error });
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

const encoder = new TextEncoder();

/**
 * The dead-letter record for a failure: the input's key, value and headers, plus the failure
 * headers. A failed punctuation has no input: its record has no key or value, the punctuation's
 * timestamp, and names the processor instead of a source.
 */
export function deadLetterRecord(applicationId: string, failure: RecordFailure): OutputRecord {
  const { job, punctuation } = failure;
  if (punctuation !== undefined) {
    const headers: RecordHeader[] = [
      { key: DeadLetterHeader.error, value: encoder.encode(messageOf(failure.error)) },
      { key: DeadLetterHeader.errorKind, value: encoder.encode(failure.kind) },
      { key: DeadLetterHeader.punctuator, value: encoder.encode(punctuation.node) },
      { key: DeadLetterHeader.task, value: encoder.encode(taskIdText(failure.taskId)) },
    ];
    return { topic: deadLetterTopic(applicationId), partition: undefined, key: null, value: null, timestamp: Math.max(0, punctuation.timestampMs), headers };
  }
  const headers: RecordHeader[] = [
    ...job.headers,
    { key: DeadLetterHeader.error, value: encoder.encode(messageOf(failure.error)) },
    { key: DeadLetterHeader.errorKind, value: encoder.encode(failure.kind) },
    { key: DeadLetterHeader.topic, value: encoder.encode(job.topic) },
    { key: DeadLetterHeader.partition, value: encoder.encode(String(job.partition)) },
    { key: DeadLetterHeader.offset, value: encoder.encode(String(job.offset)) },
    { key: DeadLetterHeader.task, value: encoder.encode(taskIdText(failure.taskId)) },
  ];
  return { topic: deadLetterTopic(applicationId), partition: undefined, key: job.rawKey, value: job.rawValue, timestamp: job.timestamp, headers };
}

/** The action the policy prescribes for a failure's kind; 'drop' only for late records. */
export function actionFor(policy: FailurePolicy, failure: RecordFailure): FailureAction | 'drop' {
  switch (failure.kind) {
    case 'deserialization':
      return policy.deserialization ?? 'fail';
    case 'processing':
      return policy.processing ?? 'fail';
    case 'late':
      return policy.lateRecords ?? 'drop';
  }
}
