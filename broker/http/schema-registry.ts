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
 * Stored in `__http_schemas`: key = topic name, value (msgpack) = `{version, schema, createdMs}` for
 * a new version, or `{deleted: true}` when the topic's schemas were removed. Replayed in order at
 * startup; the topic is never trimmed by retention.
 */
interface SchemaRecord {
  version?: number;
  schema?: unknown;
  createdMs?: number;
  deleted?: boolean;
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
    const store = await InternalTopic.open(broker, SCHEMAS_TOPIC, { 'retention.ms': '-1', 'retention.bytes': '-1' });
    const registry = new SchemaRegistry(store);
    await store.replay((topic, value) => registry.apply(topic, value as SchemaRecord));
    return registry;
  }

  private apply(topic: string, record: SchemaRecord): void {
    if (record.deleted === true || record.version === undefined) {
      this.topics.delete(topic);
      return;
    }
    const version: SchemaVersion = { version: record.version, schema: record.schema, createdMs: record.createdMs ?? 0 };
    const versions = [...(this.topics.get(topic)?.versions ?? []), version];
    this.topics.set(topic, { versions, validate: this.ajv.compile(record.schema as object) });
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
    await this.store.append([{ key: topic, value: { version: version.version, schema, createdMs: nowMs } satisfies SchemaRecord }]);
    this.topics.set(topic, { versions: [...(current?.versions ?? []), version], validate });
    return version;
  }

  async remove(topic: string): Promise<void> {
    if (!this.topics.has(topic)) return;
    await this.store.append([{ key: topic, value: { deleted: true } satisfies SchemaRecord }]);
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
