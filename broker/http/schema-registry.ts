import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Broker } from '../broker.ts';
import { InternalTopic } from './internal-topic.ts';
import { HttpProblem } from './problem.ts';
import { backwardCompatibilityErrors } from './schema-compatibility.ts';

export const SCHEMAS_TOPIC = '__http_schemas';
const MAX_VERSIONS_PER_TOPIC = 1000;

export interface SchemaVersion {
  version: number;
  schema: unknown;
  createdMs: number;
}

/**
 * Stored in `__http_schemas`, a compacted topic never trimmed by retention: key =
 * `<topic>\0<version>`, value (msgpack) = `{version, schema, createdMs}`; removing a topic's
 * schemas writes a tombstone per version. One key per version, so compaction keeps every version.
 *
 * Data directories from before compaction hold one key per topic (`<topic>`, no NUL) whose records
 * each add a version, or `{deleted: true}` removing them all. They are still read, and rewritten
 * once at open as per-version records after a tombstone for the old key (one batch), so
 * compaction, which keeps only a key's latest record, loses no version.
 */
interface SchemaRecord {
  version?: number;
  schema?: unknown;
  createdMs?: number;
  deleted?: boolean;
}

const KEY_SEPARATOR = '\u0000';

function versionKey(topic: string, version: number): string {
  return `${topic}${KEY_SEPARATOR}${version}`;
}

interface TopicSchemas {
  versions: SchemaVersion[];
  validate: ValidateFunction;
}

/** JSON Schemas (draft-07, validated by ajv) per topic, versioned, each new version backward compatible. */
export class SchemaRegistry {
  private readonly ajv = new Ajv({ allErrors: true, strict: false });
  private readonly topics = new Map<string, TopicSchemas>();

  private constructor(private readonly store: InternalTopic) {}

  static async open(broker: Broker): Promise<SchemaRegistry> {
    const store = await InternalTopic.open(broker, SCHEMAS_TOPIC, { 'cleanup.policy': 'compact', 'retention.ms': '-1', 'retention.bytes': '-1' });
    const registry = new SchemaRegistry(store);
    const byTopic = new Map<string, Map<number, SchemaVersion>>();
    const legacyTopics = new Set<string>();
    const versionsOf = (topic: string): Map<number, SchemaVersion> => {
      let versions = byTopic.get(topic);
      if (versions === undefined) byTopic.set(topic, (versions = new Map()));
      return versions;
    };
    await store.replay(
      (key, value) => {
        const record = value as SchemaRecord;
        const separator = key.indexOf(KEY_SEPARATOR);
        const topic = separator < 0 ? key : key.slice(0, separator);
        if (separator < 0) {
          legacyTopics.add(topic);
          if (record.deleted === true || record.version === undefined) {
            byTopic.delete(topic);
            return;
          }
        }
        if (record.version === undefined) return;
        versionsOf(topic).set(record.version, { version: record.version, schema: record.schema, createdMs: record.createdMs ?? 0 });
      },
      (key) => {
        const separator = key.indexOf(KEY_SEPARATOR);
        if (separator < 0) {
          // The old key's tombstone is the migration's first record: its versions follow it.
          byTopic.delete(key);
          legacyTopics.delete(key);
        } else {
          byTopic.get(key.slice(0, separator))?.delete(Number(key.slice(separator + 1)));
        }
      },
    );
    for (const [topic, versions] of byTopic) {
      const sorted = [...versions.values()].sort((a, b) => a.version - b.version);
      if (sorted.length > 0) registry.topics.set(topic, { versions: sorted, validate: registry.ajv.compile(sorted.at(-1)!.schema as object) });
    }
    if (legacyTopics.size > 0) {
      const entries: { key: string; value: unknown }[] = [];
      for (const topic of legacyTopics) {
        entries.push({ key: topic, value: null });
        for (const v of registry.versions(topic)) entries.push({ key: versionKey(topic, v.version), value: { version: v.version, schema: v.schema, createdMs: v.createdMs } satisfies SchemaRecord });
      }
      await store.append(entries);
    }
    return registry;
  }

  versions(topic: string): readonly SchemaVersion[] {
    return this.topics.get(topic)?.versions ?? [];
  }

  latest(topic: string): SchemaVersion | undefined {
    return this.topics.get(topic)?.versions.at(-1);
  }

  /** Validates `schema` as a JSON Schema and against the latest version, then stores it as the next version. */
  async register(topic: string, schema: unknown, nowMs: number): Promise<SchemaVersion> {
    if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) {
      throw new HttpProblem('validation', 'a schema must be a JSON Schema object', { errors: [{ path: '/schema', message: 'must be an object' }] });
    }
    let validate: ValidateFunction;
    try {
      validate = this.ajv.compile(schema);
    } catch (error) {
      throw new HttpProblem('validation', `not a valid JSON Schema: ${(error as Error).message}`);
    }
    const current = this.topics.get(topic);
    const previous = current?.versions.at(-1);
    if (previous !== undefined) {
      const errors = backwardCompatibilityErrors(previous.schema, schema);
      if (errors.length > 0) {
        throw new HttpProblem('conflict', `the schema is not backward compatible with version ${previous.version}`, {
          errors: errors.map((message) => ({ message })),
        });
      }
    }
    if ((current?.versions.length ?? 0) >= MAX_VERSIONS_PER_TOPIC) {
      throw new HttpProblem('conflict', `topic "${topic}" already has ${MAX_VERSIONS_PER_TOPIC} schema versions`);
    }
    const version: SchemaVersion = { version: (previous?.version ?? 0) + 1, schema, createdMs: nowMs };
    await this.store.append([{ key: versionKey(topic, version.version), value: { version: version.version, schema, createdMs: nowMs } satisfies SchemaRecord }]);
    this.topics.set(topic, { versions: [...(current?.versions ?? []), version], validate });
    return version;
  }

  async remove(topic: string): Promise<void> {
    const schemas = this.topics.get(topic);
    if (schemas === undefined) return;
    await this.store.append(schemas.versions.map((v) => ({ key: versionKey(topic, v.version), value: null })));
    this.topics.delete(topic);
  }

  /** Errors of `value` against the topic's latest schema; empty when it validates or the topic has none. */
  validate(topic: string, value: unknown): ErrorObject[] {
    const schemas = this.topics.get(topic);
    if (schemas === undefined || schemas.validate(value)) return [];
    return [...(schemas.validate.errors ?? [])];
  }

  hasSchema(topic: string): boolean {
    return this.topics.has(topic);
  }
}
