import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type {
  IncrementalAlterConfigsRequestAlterableConfig,
  IncrementalAlterConfigsRequestAlterConfigsResource,
} from '../../../sdk/protocol/mod.ts';
import { KafkaError } from '../../../sdk/protocol/kafka-error.ts';
import type { Broker } from '../../broker.ts';
import type { ApiHandler } from '../api-handler.ts';
import { alterConfigResources, type TopicConfigChanges } from './alter-config-resources.ts';
import { ConfigOperation, isListConfig, TOPIC_CONFIG_INFO } from './config-resource.ts';

function splitList(value: string): string[] {
  return value
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

function requireValue(config: IncrementalAlterConfigsRequestAlterableConfig): string {
  if (config.value === null) throw new KafkaError('INVALID_REQUEST', `config "${config.name}" has a null value`);
  return config.value;
}

/**
 * APPEND and SUBTRACT edit a list config's current value (its override, else its default), as
 * Kafka does: APPEND adds items not yet present, SUBTRACT removes the given items.
 */
function editList(broker: Broker, topic: string, config: IncrementalAlterConfigsRequestAlterableConfig): string {
  if (TOPIC_CONFIG_INFO[config.name] === undefined) {
    throw new KafkaError('INVALID_CONFIG', `unknown topic config "${config.name}"`);
  }
  if (!isListConfig(config.name)) {
    throw new KafkaError('INVALID_REQUEST', `"${config.name}" is not a list config; APPEND and SUBTRACT apply only to list configs`);
  }
  const current = broker.describeTopic(topic).configs.find((c) => c.name === config.name)?.value ?? '';
  const items = splitList(current);
  const given = splitList(requireValue(config));
  const edited =
    config.configOperation === ConfigOperation.append
      ? [...items, ...given.filter((item) => !items.includes(item))]
      : items.filter((item) => !given.includes(item));
  return edited.join(',');
}

function changesOf(broker: Broker, resource: IncrementalAlterConfigsRequestAlterConfigsResource): TopicConfigChanges {
  const changes: TopicConfigChanges = {};
  for (const config of resource.configs) {
    switch (config.configOperation) {
      case ConfigOperation.set:
        changes[config.name] = requireValue(config);
        break;
      case ConfigOperation.delete:
        changes[config.name] = null;
        break;
      case ConfigOperation.append:
      case ConfigOperation.subtract:
        changes[config.name] = editList(broker, resource.resourceName, config);
        break;
      default:
        throw new KafkaError('INVALID_REQUEST', `unknown config operation ${config.configOperation} for "${config.name}"; use 0 (SET), 1 (DELETE), 2 (APPEND) or 3 (SUBTRACT)`);
    }
  }
  return changes;
}

/**
 * IncrementalAlterConfigs. APPEND and SUBTRACT read the current value before the broker applies
 * the change, so two concurrent list edits of one topic may overwrite each other, as they may
 * in Kafka.
 */
export const incrementalAlterConfigsHandler: ApiHandler<typeof ApiKey.IncrementalAlterConfigs> = {
  apiKey: ApiKey.IncrementalAlterConfigs,
  minVersion: 0,
  maxVersion: 1,
  async handle(request, context) {
    const { broker } = context;
    const responses = await alterConfigResources(broker, request.resources, request.validateOnly, (r) => changesOf(broker, r));
    return { throttleTimeMs: 0, responses };
  },
};
