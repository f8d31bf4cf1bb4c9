import { ProtocolEncodeError } from './encode-error.ts';

/** Kafka's all-zero UUID, the default for every uuid field. */
export const ZERO_UUID = '00000000-0000-0000-0000-000000000000';

export const EMPTY_BYTES: Uint8Array = new Uint8Array(0);

/** A field whose TypeScript type admits null, written in a version where Kafka forbids null. */
export function required<T>(value: T | null, field: string): T {
  if (value === null) throw new ProtocolEncodeError(`${field} is not nullable in this version`);
  return value;
}

/**
 * A non-ignorable field holds a non-default value but the version being written lacks it: writing
 * would silently drop information, so refuse, as Kafka's UnsupportedVersionException does.
 */
export function unsupportedField(field: string, version: number): ProtocolEncodeError {
  return new ProtocolEncodeError(`${field} has a non-default value but does not exist in version ${version}`);
}
