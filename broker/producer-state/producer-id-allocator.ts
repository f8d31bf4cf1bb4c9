import { join } from 'node:path';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { readFileIfExists, writeFileAtomic } from '../log/atomic-file.ts';
import type { FileSystem } from '../log/file-system.ts';

export const PRODUCER_ID_BLOCK_FILE = 'producer-id-block';
export const PRODUCER_ID_BLOCK_SIZE = 1000;
/** Producer ids stay JS-safe integers; Kafka's int64 space is far larger than any broker will use. */
const MAX_PRODUCER_ID = Number.MAX_SAFE_INTEGER - PRODUCER_ID_BLOCK_SIZE;

/**
 * Hands out producer ids that never repeat across restarts. Ids come in blocks: before the first
 * id of a block is used, the block's end is written atomically to `producer-id-block` (a decimal
 * number, the first id not yet reserved). A crash wastes the rest of the block, never reuses it.
 */
export class ProducerIdAllocator {
  private reserving: Promise<void> | undefined;

  private constructor(
    private readonly fs: FileSystem,
    private readonly path: string,
    private next: number,
    private blockEnd: number,
  ) {}

  static async open(fs: FileSystem, dataDir: string): Promise<ProducerIdAllocator> {
    const path = join(dataDir, PRODUCER_ID_BLOCK_FILE);
    const bytes = await readFileIfExists(fs, path);
    const text = bytes === undefined ? '0' : new TextDecoder().decode(bytes).trim();
    const reserved = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(reserved)) {
      throw new KafkaError('KAFKA_STORAGE_ERROR', `${path} holds "${text.slice(0, 40)}", not a producer id`);
    }
    return new ProducerIdAllocator(fs, path, reserved, reserved);
  }

  /** Whether `producerId` was handed out by this data directory (every issued id is below the reserved end). */
  wasIssued(producerId: number): boolean {
    return producerId >= 0 && producerId < this.blockEnd;
  }

  async allocate(): Promise<number> {
    while (this.next >= this.blockEnd) {
      this.reserving ??= this.reserveBlock().finally(() => (this.reserving = undefined));
      await this.reserving;
    }
    return this.next++;
  }

  private async reserveBlock(): Promise<void> {
    if (this.next >= MAX_PRODUCER_ID) throw new KafkaError('UNKNOWN_SERVER_ERROR', 'producer ids are exhausted');
    const end = this.next + PRODUCER_ID_BLOCK_SIZE;
    await writeFileAtomic(this.fs, this.path, new TextEncoder().encode(`${end}\n`));
    this.blockEnd = end;
  }
}
