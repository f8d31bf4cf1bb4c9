import { topicFilterProblem } from './mqtt-topic-filter.ts';

/**
 * One mapping rule (the `mqtt-mapping` config, JSON): MQTT topics matching `filter` go to the log
 * topic `topic`, keyed by `key`:
 *
 *   [{ "filter": "sensors/+/temp", "topic": "sensors" },
 *    { "filter": "fleet/+/+/gps", "topic": "gps", "key": "{2}" }]
 *
 * `key` is a template: `{1}`, `{2}`... are the levels the filter's `+` wildcards matched, `{#}`
 * the levels its `#` matched, `{topic}` the whole MQTT topic. Without `key`, the key is the
 * wildcard levels joined by `/` (`sensors/dev-7/temp` → key `dev-7`), none for a filter without
 * wildcards. Rules are tried in order; the first match wins.
 *
 * Without a matching rule the default applies: the first level is the log topic and the rest of
 * the levels the key (`sensors/dev-7/temp` → topic `sensors`, key `dev-7/temp`; `alerts` → topic
 * `alerts`, no key). Either way the record's key decides its partition (Kafka's murmur2), so one
 * device's messages stay in order, and the MQTT topic travels in the `mqtt.topic` header.
 */
export interface MqttMappingRule {
  filter: string;
  topic: string;
  key?: string;
}

export interface MappedTopic {
  topic: string;
  key: string | null;
}

const KAFKA_TOPIC_NAME = /^[a-zA-Z0-9._-]{1,249}$/;

/** Checks a parsed `mqtt-mapping` value; a bad entry is an Error naming it. */
export function parseMappingRules(value: unknown): MqttMappingRule[] {
  if (!Array.isArray(value)) throw new Error('mqtt mapping: must be an array of {filter, topic, key?}');
  return value.map((entry: unknown, i) => {
    const e = entry as Partial<MqttMappingRule> | null;
    if (typeof e !== 'object' || e === null) throw new Error(`mqtt mapping[${i}] must be an object`);
    if (typeof e.filter !== 'string') throw new Error(`mqtt mapping[${i}].filter must be a string`);
    const problem = topicFilterProblem(e.filter);
    if (problem !== undefined) throw new Error(`mqtt mapping[${i}].filter: ${problem}`);
    if (typeof e.topic !== 'string' || !KAFKA_TOPIC_NAME.test(e.topic)) throw new Error(`mqtt mapping[${i}].topic must be a topic name ([a-zA-Z0-9._-], 1 to 249 characters)`);
    if (e.key !== undefined && typeof e.key !== 'string') throw new Error(`mqtt mapping[${i}].key must be a string template`);
    return { filter: e.filter, topic: e.topic, ...(e.key === undefined ? {} : { key: e.key }) };
  });
}

/** The levels a filter's wildcards matched, or undefined when the topic does not match. */
function wildcardMatches(filter: string, topic: string): { plus: string[]; hash: string | undefined } | undefined {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return undefined;
  const plus: string[] = [];
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return { plus, hash: t.slice(i).join('/') };
    if (i >= t.length) return undefined;
    if (level === '+') plus.push(t[i]!);
    else if (level !== t[i]) return undefined;
  }
  return f.length === t.length ? { plus, hash: undefined } : undefined;
}

/** MQTT topic → log topic and key, by the first matching rule or the default; undefined when the log topic would be no valid topic name. */
export function mapTopic(rules: readonly MqttMappingRule[], mqttTopic: string): MappedTopic | undefined {
  for (const rule of rules) {
    const match = wildcardMatches(rule.filter, mqttTopic);
    if (match === undefined) continue;
    if (rule.key === undefined) {
      const levels = match.hash === undefined ? match.plus : [...match.plus, match.hash];
      return { topic: rule.topic, key: levels.length === 0 ? null : levels.join('/') };
    }
    const key = rule.key.replace(/\{(\d+|#|topic)\}/g, (_, name: string) => (name === 'topic' ? mqttTopic : name === '#' ? (match.hash ?? '') : (match.plus[Number(name) - 1] ?? '')));
    return { topic: rule.topic, key };
  }
  const slash = mqttTopic.indexOf('/');
  const topic = slash < 0 ? mqttTopic : mqttTopic.slice(0, slash);
  if (!KAFKA_TOPIC_NAME.test(topic) || topic.startsWith('__')) return undefined;
  return { topic, key: slash < 0 ? null : mqttTopic.slice(slash + 1) };
}

/**
 * The MQTT topic a log record is delivered under: its `mqtt.topic` header when an MQTT client
 * wrote it, else the default mapping reversed (`<topic>/<key>`, or `<topic>` without a key), so
 * records from Kafka producers reach MQTT subscribers too.
 */
export function mqttTopicOf(logTopic: string, key: string | null, headerTopic: string | undefined): string {
  if (headerTopic !== undefined) return headerTopic;
  return key === null || key === '' ? logTopic : `${logTopic}/${key}`;
}

/**
 * The log topics a subscription may read: a filter whose first level is a literal reads that
 * topic (the default mapping), plus every rule's topic; a filter starting with a wildcard reads
 * every topic. `topics` are the broker's non-internal topics.
 */
export function logTopicsForFilter(rules: readonly MqttMappingRule[], filter: string, topics: readonly string[]): string[] {
  const first = filter.split('/')[0]!;
  if (first === '+' || first === '#') return [...topics];
  const wanted = new Set<string>([first, ...rules.map((r) => r.topic)]);
  return topics.filter((t) => wanted.has(t));
}
