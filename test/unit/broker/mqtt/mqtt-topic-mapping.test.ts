import { describe, expect, it } from 'vitest';
import { topicFilterProblem, topicMatches } from '../../../../broker/mqtt/mqtt-topic-filter.ts';
import { logTopicsForFilter, mapTopic, mqttTopicOf, parseMappingRules } from '../../../../broker/mqtt/mqtt-topic-mapping.ts';

const rules = parseMappingRules([
  { filter: 'sensors/+/temp', topic: 'sensors' },
  { filter: 'fleet/+/+/gps', topic: 'gps', key: '{2}' },
  { filter: 'logs/#', topic: 'logs', key: '{topic}' },
]);

describe('MQTT topic mapping', () => {
  it('maps by the first matching rule: the + levels as key by default, or the key template', () => {
    expect(mapTopic(rules, 'sensors/dev-7/temp')).toEqual({ topic: 'sensors', key: 'dev-7' });
    expect(mapTopic(rules, 'fleet/eu/truck-3/gps')).toEqual({ topic: 'gps', key: 'truck-3' });
    expect(mapTopic(rules, 'logs/a/b')).toEqual({ topic: 'logs', key: 'logs/a/b' });
  });

  it('maps by default: the first level is the topic, the rest the key; refuses what is no topic name', () => {
    expect(mapTopic(rules, 'sensors/dev-7/humidity')).toEqual({ topic: 'sensors', key: 'dev-7/humidity' });
    expect(mapTopic([], 'alerts')).toEqual({ topic: 'alerts', key: null });
    expect(mapTopic([], 'has space/x')).toBeUndefined();
    expect(mapTopic([], '__consumer_offsets/x')).toBeUndefined();
    expect(mapTopic([], '/leading')).toBeUndefined();
  });

  it('gives records back their MQTT topic: the header, else the default mapping reversed', () => {
    expect(mqttTopicOf('sensors', 'dev-7', 'sensors/dev-7/temp')).toBe('sensors/dev-7/temp');
    expect(mqttTopicOf('orders', 'eu/42', undefined)).toBe('orders/eu/42');
    expect(mqttTopicOf('orders', null, undefined)).toBe('orders');
  });

  it('reads the literal first level and the rule topics for a filter, every topic for a leading wildcard', () => {
    const topics = ['sensors', 'gps', 'logs', 'orders', 'other'];
    expect(logTopicsForFilter(rules, 'orders/#', topics).sort()).toEqual(['gps', 'logs', 'orders', 'sensors']);
    expect(logTopicsForFilter(rules, '+/x', topics)).toEqual(topics);
  });

  it('refuses bad rules with a sentence naming the entry', () => {
    expect(() => parseMappingRules([{ filter: 'a/#/b', topic: 't' }])).toThrow('mqtt mapping[0].filter');
    expect(() => parseMappingRules([{ filter: 'a', topic: 'bad topic' }])).toThrow('mqtt mapping[0].topic');
    expect(() => parseMappingRules({})).toThrow('must be an array');
  });
});

describe('MQTT topic filters', () => {
  it('matches + as one level and # as any rest, and keeps $ topics from leading wildcards', () => {
    expect(topicMatches('a/+/c', 'a/b/c')).toBe(true);
    expect(topicMatches('a/+/c', 'a/b/d')).toBe(false);
    expect(topicMatches('a/#', 'a')).toBe(true);
    expect(topicMatches('a/#', 'a/b/c')).toBe(true);
    expect(topicMatches('#', '$SYS/x')).toBe(false);
    expect(topicMatches('+/x', '$SYS/x')).toBe(false);
    expect(topicMatches('a/b', 'a/b/c')).toBe(false);
  });

  it('validates filters', () => {
    expect(topicFilterProblem('a/#')).toBeUndefined();
    expect(topicFilterProblem('')).toBeDefined();
    expect(topicFilterProblem('a/#/b')).toBeDefined();
    expect(topicFilterProblem('a/b+')).toBeDefined();
  });
});
