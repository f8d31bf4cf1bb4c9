import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { isKafkaError } from '../../../../sdk/protocol/kafka-error.ts';
import { FaultInjectingFileSystem } from '../../../../broker/log/fault-injecting-file-system.ts';
import { nodeFileSystem } from '../../../../broker/log/file-system.ts';
import { readCheckpoint, writeCheckpoint } from '../../../../broker/log/recovery-checkpoint.ts';
import { tempDir } from './log-test-support.ts';

describe('recovery checkpoint file', () => {
  it("writes Kafka's text format and reads it back", async () => {
    const file = path.join(tempDir(), 'recovery-point-offset-checkpoint');
    const entries = new Map([
      ['orders-3', 1234],
      ['my-topic-with-dashes-0', 0],
    ]);
    await writeCheckpoint(nodeFileSystem, file, entries);
    expect(fs.readFileSync(file, 'utf8')).toBe('0\n2\norders 3 1234\nmy-topic-with-dashes 0 0\n');
    expect(await readCheckpoint(nodeFileSystem, file)).toEqual(entries);
    expect(fs.existsSync(`${file}.tmp`)).toBe(false);
  });

  it('reads a missing file as empty and rejects malformed ones', async () => {
    const dir = tempDir();
    expect((await readCheckpoint(nodeFileSystem, path.join(dir, 'none'))).size).toBe(0);
    for (const text of ['1\n0\n', '0\n2\norders 3 5\n', '0\n1\norders x 5\n', '0\n1\norders 3\n']) {
      const file = path.join(dir, 'bad');
      fs.writeFileSync(file, text);
      const error = await readCheckpoint(nodeFileSystem, file).catch((e: unknown) => e);
      expect(isKafkaError(error, 'KAFKA_STORAGE_ERROR'), `${JSON.stringify(text)}: ${String(error)}`).toBe(true);
    }
  });

  it('replaces the file atomically: a crash keeps the old or the new content whole', async () => {
    const dir = tempDir();
    const file = path.join(dir, 'cp');
    const fault = new FaultInjectingFileSystem(nodeFileSystem);
    await writeCheckpoint(fault, file, new Map([['a-0', 1]]));
    await writeCheckpoint(fault, file, new Map([['a-0', 2]]));
    fault.crash();
    expect(await readCheckpoint(nodeFileSystem, file)).toEqual(new Map([['a-0', 2]]));
    const pending = writeCheckpoint(fault, file, new Map([['a-0', 3]])).catch((e: unknown) => e);
    fault.crash();
    await pending;
    expect([2, 3]).toContain((await readCheckpoint(nodeFileSystem, file)).get('a-0'));
  });
});
