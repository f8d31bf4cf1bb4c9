import { KafkaError } from '../../../sdk/protocol/kafka-error.ts';
import { byteCursor, readVarint, readVarlong } from '../../../sdk/record/varint.ts';

function corrupt(message: string): KafkaError {
  return new KafkaError('CORRUPT_MESSAGE', message);
}

/**
 * Where each record of a batch lies in its (decompressed) record bytes, and the fields the cleaner
 * decides on, in reusable typed arrays (one object per record would dominate a pass's garbage).
 * A record is `length varint | attributes int8 | timestampDelta varlong | offsetDelta varint |
 * key | value | headers`; `restStart` is where offsetDelta begins, so a record can be re-encoded
 * with another timestampDelta by copying everything from there.
 */
export class RecordSpans {
  count = 0;
  start = new Int32Array(64);
  end = new Int32Array(64);
  bodyStart = new Int32Array(64);
  restStart = new Int32Array(64);
  offsetDelta = new Int32Array(64);
  timestampDelta = new Float64Array(64);
  /** -1 for a null key. */
  keyStart = new Int32Array(64);
  keyLength = new Int32Array(64);
  valueIsNull = new Uint8Array(64);

  /** Reads `recordsCount` records from `data`; throws CORRUPT_MESSAGE when they do not fit exactly. */
  scan(data: Uint8Array, recordsCount: number): void {
    if (recordsCount < 0) throw corrupt(`record batch declares ${recordsCount} records`);
    this.ensure(recordsCount);
    const c = byteCursor(data);
    for (let i = 0; i < recordsCount; i++) {
      const start = c.pos;
      if (start >= data.length) throw corrupt(`record batch declares ${recordsCount} records but holds only ${i}`);
      const length = readVarint(c);
      if (length < 6 || length > data.length - c.pos) throw corrupt(`record ${i} has length ${length}, ${data.length - c.pos} bytes left`);
      const end = c.pos + length;
      c.end = end;
      this.bodyStart[i] = c.pos;
      c.pos++;
      this.timestampDelta[i] = readVarlong(c);
      this.restStart[i] = c.pos;
      this.offsetDelta[i] = readVarint(c);
      const keyLength = readVarint(c);
      if (keyLength < -1 || keyLength > end - c.pos) throw corrupt(`record ${i} key length ${keyLength} does not fit`);
      this.keyStart[i] = keyLength < 0 ? -1 : c.pos;
      this.keyLength[i] = Math.max(keyLength, 0);
      if (keyLength > 0) c.pos += keyLength;
      const valueLength = readVarint(c);
      if (valueLength < -1 || valueLength > end - c.pos) throw corrupt(`record ${i} value length ${valueLength} does not fit`);
      this.valueIsNull[i] = valueLength < 0 ? 1 : 0;
      this.start[i] = start;
      this.end[i] = end;
      c.pos = end;
      c.end = data.length;
    }
    if (c.pos !== data.length) throw corrupt(`record batch has ${data.length - c.pos} bytes after its ${recordsCount} records`);
    this.count = recordsCount;
  }

  private ensure(n: number): void {
    if (n <= this.start.length) return;
    const size = Math.max(n, this.start.length * 2);
    this.start = new Int32Array(size);
    this.end = new Int32Array(size);
    this.bodyStart = new Int32Array(size);
    this.restStart = new Int32Array(size);
    this.offsetDelta = new Int32Array(size);
    this.timestampDelta = new Float64Array(size);
    this.keyStart = new Int32Array(size);
    this.keyLength = new Int32Array(size);
    this.valueIsNull = new Uint8Array(size);
  }
}
