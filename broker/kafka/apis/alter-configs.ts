import { ApiKey } from '../../../sdk/protocol/mod.ts';
import type { AlterConfigsRequestAlterConfigsResource } from '../../../sdk/protocol/mod.ts';
import { KafkaError } from '../../../sdk/protocol/kafka-error.ts';
import { TOPIC_CONFIG_NAMES } from '../../topic/topic-config.ts';
import type { ApiHandler } from '../api-handler.ts';
import { alterConfigResources, type TopicConfigChanges } from './alter-config-resources.ts';

/**
 * AlterConfigs replaces a topic's whole override set: every config not named returns to its
 * default. Resetting every known config and setting the named ones in one broker call keeps the
 * replacement atomic against concurrent changes.
 */
function replaceAll(resource: AlterConfigsRequestAlterConfigsResource): TopicConfigChanges {
  const changes: TopicConfigChanges = Object.fromEntries(TOPIC_CONFIG_NAMES.map((name) => [name, null]));
  for (const config of resource.configs) {
    if (config.value === null) throw new KafkaError('INVALID_REQUEST', `config "${config.name}" has a null value`);
    changes[config.name] = config.value;
  }
  return changes;
}

/** AlterConfigs (the non-incremental form kafkajs uses). */
export const alterConfigsHandler: ApiHandler<typeof ApiKey.AlterConfigs> = {
  apiKey: ApiKey.AlterConfigs,
  minVersion: 0,
  maxVersion: 2,
  async handle(request, context) {
    const responses = await alterConfigResources(context.broker, request.resources, request.validateOnly, replaceAll);
    return { throttleTimeMs: 0, responses };
  },
};
