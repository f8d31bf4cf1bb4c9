import { KafkaError } from '../../../sdk/protocol/kafka-error.ts';
import type { Broker } from '../../broker.ts';
import { type ErrorResult, settle } from './admin-result.ts';
import { errorFields } from './kafka-error-fields.ts';
import { ConfigResourceType } from './config-resource.ts';
import { findDuplicates } from './find-duplicates.ts';
import { groupConfigChanges } from './group-configs.ts';

export interface AlterResource {
  resourceType: number;
  resourceName: string;
  configs: readonly { name: string }[];
}

export interface AlterResult extends ErrorResult {
  resourceType: number;
  resourceName: string;
}

/** Config changes as Broker.alterTopicConfig takes them: a value sets a config, null resets it. */
export type TopicConfigChanges = Record<string, string | null>;

function resourceKey(resource: AlterResource): string {
  return `${resource.resourceType}:${resource.resourceName}`;
}

function rejectDuplicateKeys(resource: AlterResource): void {
  const duplicates = findDuplicates(resource.configs.map((c) => c.name));
  if (duplicates.size > 0) {
    throw new KafkaError('INVALID_REQUEST', `config keys given more than once: ${[...duplicates].join(', ')}`);
  }
}

/**
 * Broker configs are fixed when the broker starts, so only an empty change set (a no-op) is
 * accepted, and only for this broker's id or the cluster default (empty name).
 */
function checkBrokerResource(broker: Broker, resource: AlterResource): void {
  if (resource.resourceName !== '' && resource.resourceName !== String(broker.config.nodeId)) {
    throw new KafkaError('INVALID_REQUEST', `unexpected broker id "${resource.resourceName}"; this is broker ${broker.config.nodeId}`);
  }
  if (resource.configs.length > 0) {
    throw new KafkaError(
      'INVALID_REQUEST',
      `broker configs cannot be changed at runtime (${resource.configs.map((c) => c.name).join(', ')}); set them when starting the broker`,
    );
  }
}

async function alterOne<R extends AlterResource>(
  broker: Broker,
  resource: R,
  validateOnly: boolean,
  topicChanges: (resource: R) => TopicConfigChanges,
): Promise<ErrorResult> {
  return settle(() => {
    rejectDuplicateKeys(resource);
    switch (resource.resourceType) {
      case ConfigResourceType.topic:
        return broker.alterTopicConfig(resource.resourceName, topicChanges(resource), { validateOnly });
      case ConfigResourceType.broker:
        return checkBrokerResource(broker, resource);
      case ConfigResourceType.group:
        return broker.shareGroups.alterGroupConfig(resource.resourceName, groupConfigChanges(resource.configs), validateOnly);
      default:
        throw new KafkaError('INVALID_REQUEST', `config resource type ${resource.resourceType} is not supported; use 2 (topic), 4 (broker) or 32 (group)`);
    }
  });
}

/**
 * Applies AlterConfigs or IncrementalAlterConfigs resource by resource; `topicChanges` turns a
 * topic resource's entries into broker changes (and may throw a KafkaError for that resource). A
 * resource named twice is answered once with INVALID_REQUEST.
 */
export async function alterConfigResources<R extends AlterResource>(
  broker: Broker,
  resources: readonly R[],
  validateOnly: boolean,
  topicChanges: (resource: R) => TopicConfigChanges,
): Promise<AlterResult[]> {
  const duplicates = findDuplicates(resources.map(resourceKey));
  const answered = new Set<string>();
  const pending: Promise<AlterResult>[] = [];
  for (const resource of resources) {
    const key = resourceKey(resource);
    if (answered.has(key)) continue;
    answered.add(key);
    const base = { resourceType: resource.resourceType, resourceName: resource.resourceName };
    const result = duplicates.has(key)
      ? Promise.resolve(errorFields(new KafkaError('INVALID_REQUEST', `resource ${key} appears more than once in the request`)))
      : alterOne(broker, resource, validateOnly, topicChanges);
    pending.push(result.then((error) => ({ ...base, ...error })));
  }
  return Promise.all(pending);
}
