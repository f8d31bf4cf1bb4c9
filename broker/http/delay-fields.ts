import { DelayHeader } from '../delay/delay-headers.ts';
import type { RecordHeader } from '../../sdk/record/record.ts';
import type { FieldError } from './record-codec.ts';

const encoder = new TextEncoder();

/**
 * A produce record's `deliverAt` (ms since the epoch) or `delayMs` as the header delayed delivery
 * reads (broker/delay/delay-headers.ts), with the field that set it; undefined when neither is
 * set. Problems go to `errors`.
 */
export function delayHeaderOf(deliverAt: unknown, delayMs: unknown, path: string, errors: FieldError[]): { header: RecordHeader; field: 'deliverAt' | 'delayMs' } | undefined {
  const given = [
    ['deliverAt', deliverAt, DelayHeader.deliverAt],
    ['delayMs', delayMs, DelayHeader.delayMs],
  ].filter(([, value]) => value !== undefined && value !== null) as ['deliverAt' | 'delayMs', unknown, string][];
  if (given.length === 0) return undefined;
  if (given.length > 1) {
    errors.push({ path: `${path}/delayMs`, message: 'set one of deliverAt and delayMs' });
    return undefined;
  }
  const [field, value, header] = given[0]!;
  if (!(Number.isSafeInteger(value) && (value as number) >= 0)) {
    errors.push({ path: `${path}/${field}`, message: field === 'deliverAt' ? 'must be a non-negative integer (ms since the epoch)' : 'must be a non-negative integer of milliseconds' });
    return undefined;
  }
  return { header: { key: header, value: encoder.encode(String(value)) }, field };
}
