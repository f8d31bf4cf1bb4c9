import { describe, expect, it } from 'vitest';
import { deliveredHeaders, dueBatches } from '../../../../broker/delay/delay-headers.ts';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import type { CompressionName } from '../../../../sdk/record/compression.ts';
import { RecordBatchBuilder } from '../../../../sdk/record/record-batch-builder.ts';

const encoder = new TextEncoder();
const NOW = 1_700_000_000_000;
const MAX = 60_000;

function batch(headers: Record<string, string>[], compression: CompressionName = 'none', isTransactional = false): Uint8Array {
  const builder = new RecordBatchBuilder({ compression, producerId: isTransactional ? 7 : -1, producerEpoch: 0, baseSequence: isTransactional ? 0 : -1, isTransactional });
  for (const h of headers) builder.append({ value: 'v', headers: Object.entries(h).map(([key, value]) => ({ key, value: encoder.encode(value) })) });
  return builder.seal();
}

function errorOf(run: () => unknown): string {
  try {
    run();
    return 'none';
  } catch (error) {
    return isKafkaError(error) ? `${error.errorName}: ${error.message}` : String(error);
  }
}

describe('delay headers', () => {
  it('finds nothing in batches without delay headers, compressed or not', () => {
    expect(dueBatches(batch([{ other: '1' }]), NOW, MAX, 't-0')).toBeUndefined();
    expect(dueBatches(batch([{ other: '1' }], 'lz4'), NOW, MAX, 't-0')).toBeUndefined();
  });

  it('reads rill.deliver.at as an absolute time and rill.delay.ms from now, in compressed batches too; records without one are due now', () => {
    const due = dueBatches(batch([{ 'rill.deliver.at': String(NOW + 500) }, {}, { 'rill.delay.ms': '2000' }], 'zstd'), NOW, MAX, 't-0');
    expect(due?.records.map((r) => r.dueMs)).toEqual([NOW + 500, NOW, NOW + 2000]);
    expect(due?.maxDueMs).toBe(NOW + 2000);
    expect(due?.transactional).toBe(false);
    expect(dueBatches(batch([{ 'rill.deliver.at': String(NOW - 5000) }]), NOW, MAX, 't-0')?.maxDueMs).toBe(NOW);
  });

  it('refuses bad values, both headers, and times beyond rill.delay.max.ms with INVALID_RECORD', () => {
    expect(errorOf(() => dueBatches(batch([{ 'rill.deliver.at': 'tomorrow' }]), NOW, MAX, 't-0'))).toMatch(/^INVALID_RECORD: .*t-0: header rill\.deliver\.at must be/);
    expect(errorOf(() => dueBatches(batch([{ 'rill.delay.ms': '-5' }]), NOW, MAX, 't-0'))).toMatch(/^INVALID_RECORD/);
    expect(errorOf(() => dueBatches(batch([{ 'rill.delay.ms': '5', 'rill.deliver.at': '5' }]), NOW, MAX, 't-0'))).toMatch(/one of/);
    expect(errorOf(() => dueBatches(batch([{ 'rill.delay.ms': String(MAX + 1) }]), NOW, MAX, 't-0'))).toMatch(/rill\.delay\.max\.ms \(60000\)/);
  });

  it('marks transactional batches and leaves undecodable ones to the append checks', () => {
    expect(dueBatches(batch([{ 'rill.delay.ms': '10' }], 'none', true), NOW, MAX, 't-0')?.transactional).toBe(true);
    const corrupt = batch([{ 'rill.delay.ms': '10' }], 'gzip');
    corrupt[corrupt.length - 3]! ^= 0xff;
    expect(dueBatches(corrupt, NOW, MAX, 't-0')).toBeUndefined();
  });

  it('turns rill.delay.ms into rill.deliver.at on delivery, so a copied record is not delayed again', () => {
    const headers = deliveredHeaders([{ key: 'a', value: null }, { key: 'rill.delay.ms', value: encoder.encode('100') }], NOW + 100);
    expect(headers.map((h) => [h.key, h.value === null ? null : new TextDecoder().decode(h.value)])).toEqual([['a', null], ['rill.deliver.at', String(NOW + 100)]]);
  });
});
