import { describeTopicConfig, TOPIC_CONFIG_NAMES, topicConfigValidValues } from '../../topic/topic-config.ts';
import { TOPIC_CONFIG_INFO } from './config-resource.ts';

/**
 * The topic configs Rill honours as a markdown table, from the same definitions that validate them
 * and that DescribeConfigs documents: README.md's table is this text, checked by a test.
 */
export function topicConfigReference(): string {
  const defaults = describeTopicConfig({});
  const rows = TOPIC_CONFIG_NAMES.map((name) => {
    const info = TOPIC_CONFIG_INFO[name];
    if (info === undefined) throw new Error(`invariant: topic config ${name} has no documentation`);
    const value = defaults.find((d) => d.name === name)!.value;
    const shown = value === '9223372036854775807' ? 'Long.MAX_VALUE' : value;
    return `| \`${name}\` | ${shown} | ${topicConfigValidValues(name)} | ${info.documentation.replaceAll('|', '\\|')} |`;
  });
  return ['| Config | Default | Valid values | Meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
