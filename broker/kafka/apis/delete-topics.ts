import { ApiKey, ZERO_UUID } from '../../../sdk/protocol/mod.ts';
import type { DeleteTopicsResponseDeletableTopicResult } from '../../../sdk/protocol/mod.ts';
import { KafkaError } from '../../../sdk/protocol/kafka-error.ts';
import type { Broker } from '../../broker.ts';
import { isInternalTopic } from '../../topic/topic-name.ts';
import type { ApiHandler } from '../api-handler.ts';
import { settle } from './admin-result.ts';
import { errorFields } from './kafka-error-fields.ts';
import { findDuplicates } from './find-duplicates.ts';
import { RequestDeadline } from './request-deadline.ts';

/** One topic to delete, named by the client either way v6 allows. */
interface DeleteTarget {
  name: string | null;
  topicId: string;
}

function topicNameById(broker: Broker, topicId: string): string | undefined {
  return broker.listTopics({ includeInternal: true }).find((name) => broker.describeTopic(name).topicId === topicId);
}

function targetsOf(request: { topics: DeleteTarget[]; topicNames: string[] }, version: number): DeleteTarget[] {
  return version >= 6 ? request.topics : request.topicNames.map((name) => ({ name, topicId: ZERO_UUID }));
}

/** A key that identifies a target for duplicate detection: its name, else its id. */
function targetKey(target: DeleteTarget): string {
  return target.name === null ? `id:${target.topicId}` : `name:${target.name}`;
}

/**
 * Resolves a target to the topic name to delete, or throws what Kafka answers: UNKNOWN_TOPIC_ID
 * for an id no topic has, INVALID_REQUEST when both or neither of name and id are given, and
 * INVALID_TOPIC_EXCEPTION for internal (`__`-prefixed) topics, which hold broker state.
 */
function resolveTarget(broker: Broker, target: DeleteTarget): string {
  const hasId = target.topicId !== ZERO_UUID;
  if (target.name !== null && hasId) {
    throw new KafkaError('INVALID_REQUEST', 'give either a topic name or a topic id, not both');
  }
  let name = target.name;
  if (name === null) {
    if (!hasId) throw new KafkaError('INVALID_REQUEST', 'give a topic name or a topic id');
    name = topicNameById(broker, target.topicId) ?? null;
    if (name === null) throw new KafkaError('UNKNOWN_TOPIC_ID', `no topic has id ${target.topicId}`);
  }
  if (isInternalTopic(name)) {
    throw new KafkaError('INVALID_TOPIC_EXCEPTION', `"${name}" is an internal topic holding broker state and cannot be deleted`);
  }
  return name;
}

async function deleteOne(
  broker: Broker,
  target: DeleteTarget,
  duplicated: boolean,
  deadline: RequestDeadline,
): Promise<DeleteTopicsResponseDeletableTopicResult> {
  if (duplicated) {
    const error = new KafkaError('INVALID_REQUEST', `topic ${target.name === null ? `id ${target.topicId}` : `"${target.name}"`} appears more than once in the request`);
    return { ...target, ...errorFields(error) };
  }
  let name: string;
  let topicId: string;
  try {
    name = resolveTarget(broker, target);
    topicId = broker.hasTopic(name) ? broker.describeTopic(name).topicId : target.topicId;
  } catch (error) {
    return { ...target, ...errorFields(error) };
  }
  const error = await deadline.within(settle(() => broker.deleteTopic(name)));
  return { name, topicId, ...error };
}

/**
 * DeleteTopics. v0–5 name topics; v6 names each by name or by topic id. Each duplicated entry is
 * answered once with INVALID_REQUEST.
 */
export const deleteTopicsHandler: ApiHandler<typeof ApiKey.DeleteTopics> = {
  apiKey: ApiKey.DeleteTopics,
  minVersion: 0,
  maxVersion: 6,
  async handle(request, context) {
    const targets = targetsOf(request, context.apiVersion);
    const duplicates = findDuplicates(targets.map(targetKey));
    const deadline = new RequestDeadline(request.timeoutMs);
    const answered = new Set<string>();
    const pending: Promise<DeleteTopicsResponseDeletableTopicResult>[] = [];
    for (const target of targets) {
      const key = targetKey(target);
      if (answered.has(key)) continue;
      answered.add(key);
      pending.push(deleteOne(context.broker, target, duplicates.has(key), deadline));
    }
    try {
      return { throttleTimeMs: 0, responses: await Promise.all(pending) };
    } finally {
      deadline.clear();
    }
  },
};
