import { Ajv, type JSONSchemaType, type Schema } from 'ajv';
import { KafkaError } from '../protocol/kafka-error.ts';
import { jsonSerde } from './basic-serdes.ts';
import type { Serde } from './serde.ts';

/**
 * JSON checked against a JSON Schema with ajv both ways: a value that does not match fails
 * `serialize` with INVALID_RECORD before it is sent, and a received record that does not match
 * fails `deserialize` with INVALID_RECORD instead of reaching the application as the wrong type.
 */
export function jsonSchemaSerde<T>(schema: JSONSchemaType<T> | Schema, options: { ajv?: Ajv } = {}): Serde<T> {
  const ajv = options.ajv ?? new Ajv({ allErrors: true, strict: false });
  const validate = ajv.compile<T>(schema);
  const json = jsonSerde<unknown>();
  const check = (value: unknown, direction: string): T => {
    if (validate(value)) return value;
    throw new KafkaError('INVALID_RECORD', `${direction} value does not match the schema: ${ajv.errorsText(validate.errors)}`);
  };
  return {
    serialize: (value) => json.serialize(check(value, 'produced')),
    deserialize: (bytes) => check(json.deserialize(bytes), 'consumed'),
  };
}
