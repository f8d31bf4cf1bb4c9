import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterEach } from 'vitest';
import type { Clock } from '../../../../broker/log/clock.ts';
import type { FileSystem } from '../../../../broker/log/file-system.ts';
import { nodeFileSystem } from '../../../../broker/log/file-system.ts';
import { defaultLogConfig, type LogConfig } from '../../../../broker/log/log-config.ts';
import { PartitionLog } from '../../../../broker/log/partition-log.ts';

const tempDirs: string[] = [];

afterEach(() => {
  for (const dir of tempDirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

/** A fresh temp directory, removed after the test. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rill-log-'));
  tempDirs.push(dir);
  return dir;
}

export class ManualClock implements Clock {
  constructor(public now = 1_700_000_000_000) {}
  nowMs(): number {
    return this.now;
  }
}

export interface OpenOptions {
  dir: string;
  fs?: FileSystem;
  clock?: Clock;
  config?: Partial<LogConfig>;
  recoveryPoint?: number;
}

export function openLog(options: OpenOptions): Promise<PartitionLog> {
  return PartitionLog.open({
    dir: options.dir,
    topicPartition: 'orders-3',
    fs: options.fs ?? nodeFileSystem,
    clock: options.clock ?? new ManualClock(),
    config: { ...defaultLogConfig, ...options.config },
    recoveryPoint: options.recoveryPoint ?? 0,
  });
}

export function segmentFiles(dir: string, suffix: string): string[] {
  return fs
    .readdirSync(dir)
    .filter((name) => name.endsWith(suffix))
    .sort();
}

/** Every stored batch from `from` to the high watermark, read in `maxBytes` steps. */
export function readAll(log: PartitionLog, from = log.logStartOffset, maxBytes = 64 * 1024): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = from;
  while (offset < log.highWatermark) {
    const { records } = log.read(offset, maxBytes);
    if (records.length === 0) throw new Error(`empty read at ${offset} below the high watermark ${log.highWatermark}`);
    const dv = new DataView(records.buffer, records.byteOffset, records.byteLength);
    for (let at = 0; at < records.length; ) {
      const size = dv.getInt32(at + 8) + 12;
      out.push(records.slice(at, at + size));
      offset = Number(dv.getBigInt64(at)) + dv.getInt32(at + 23) + 1;
      at += size;
    }
  }
  return out;
}
