import { malformed, protocolError } from './mqtt-reason-code.ts';
import type { MqttReader } from './mqtt-reader.ts';
import { MqttWriter } from './mqtt-writer.ts';
import {
  isRepeatable,
  type MqttProperties,
  PROPERTY_BY_ID,
  PROPERTY_DEFINITIONS,
  type PropertyContext,
  type PropertyDefinition,
} from './mqtt-properties.ts';

type Mutable = { [K in keyof MqttProperties]: unknown };

function readValue(reader: MqttReader, definition: PropertyDefinition): unknown {
  const what = `property ${definition.name}`;
  switch (definition.encoding) {
    case 'byte':
      return reader.byte(what);
    case 'u16':
      return reader.u16(what);
    case 'u32':
      return reader.u32(what);
    case 'varint':
      return reader.varint(what);
    case 'utf8':
      return reader.utf8(what);
    case 'binary':
      return reader.binary(what);
    case 'pair':
      return [reader.utf8(`${what} name`), reader.utf8(`${what} value`)];
  }
}

/**
 * Reads a property block (§2.2.2): its Variable Byte Integer length, then identifier/value pairs.
 * An identifier unknown or not allowed in `context` is a Malformed Packet; a repeated
 * non-repeatable property or a value out of its range is a Protocol Error.
 */
export function readProperties(reader: MqttReader, context: PropertyContext): MqttProperties {
  const length = reader.varint('property length');
  const end = reader.limit(length, 'properties');
  const properties: Mutable = {};
  while (reader.remaining > 0) {
    const id = reader.varint('property identifier');
    const definition = PROPERTY_BY_ID.get(id);
    if (definition === undefined || !definition.contexts.includes(context)) {
      throw malformed(`property identifier 0x${id.toString(16)} is not valid in this packet`);
    }
    const value = readValue(reader, definition);
    if (definition.booleanByte === true && value !== 0 && value !== 1) throw protocolError(`property ${definition.name} must be 0 or 1, got ${String(value)}`);
    if (definition.nonZero === true && value === 0) throw protocolError(`property ${definition.name} must not be 0`);
    if (isRepeatable(definition, context)) {
      ((properties[definition.name] ??= []) as unknown[]).push(value);
    } else if (definition.name === 'subscriptionIdentifiers') {
      if (properties.subscriptionIdentifiers !== undefined) throw protocolError('property subscriptionIdentifiers appears more than once');
      properties.subscriptionIdentifiers = [value];
    } else {
      if (properties[definition.name] !== undefined) throw protocolError(`property ${definition.name} appears more than once`);
      properties[definition.name] = value;
    }
  }
  reader.restore(end);
  return properties as MqttProperties;
}

function writeValue(writer: MqttWriter, definition: PropertyDefinition, value: unknown): void {
  switch (definition.encoding) {
    case 'byte':
      writer.byte(value as number);
      return;
    case 'u16':
      writer.u16(value as number);
      return;
    case 'u32':
      writer.u32(value as number);
      return;
    case 'varint':
      writer.varint(value as number);
      return;
    case 'utf8':
      writer.utf8(value as string);
      return;
    case 'binary':
      writer.binary(value as Uint8Array);
      return;
    case 'pair': {
      const [name, text] = value as [string, string];
      writer.utf8(name).utf8(text);
      return;
    }
  }
}

/** The property block's bytes without its length prefix, in identifier order. */
export function encodePropertyBody(properties: MqttProperties): Uint8Array {
  const writer = new MqttWriter();
  const values = properties as Mutable;
  for (const definition of PROPERTY_DEFINITIONS) {
    const value = values[definition.name];
    if (value === undefined) continue;
    const repeated = definition.name === 'userProperties' || definition.name === 'subscriptionIdentifiers';
    for (const item of repeated ? (value as unknown[]) : [value]) {
      writer.varint(definition.id);
      writeValue(writer, definition, item);
    }
  }
  return writer.finish();
}

export function writeProperties(writer: MqttWriter, properties: MqttProperties): void {
  const body = encodePropertyBody(properties);
  writer.varint(body.length).bytes(body);
}
