import { closeSync, openSync, readFileSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KafkaError } from '../protocol/kafka-error.ts';

const LOCK_FILE = '.lock';

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * An exclusive claim on a directory (the broker's data directory, a streams application's state
 * directory): a `.lock` file holding the owner's pid, created with O_EXCL. A lock left by a
 * process that no longer exists (killed, crashed) is taken over.
 */
export class DirectoryLock {
  private constructor(private readonly path: string) {}

  static acquire(dataDir: string): DirectoryLock {
    const path = join(dataDir, LOCK_FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        writeSync(fd, `${process.pid}\n`);
        closeSync(fd);
        return new DirectoryLock(path);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        const owner = Number.parseInt(readFileSync(path, 'utf8'), 10);
        if (Number.isInteger(owner) && owner !== process.pid && processIsAlive(owner)) {
          throw new KafkaError('KAFKA_STORAGE_ERROR', `directory ${dataDir} is in use by process ${owner}`);
        }
        if (owner === process.pid) {
          throw new KafkaError('KAFKA_STORAGE_ERROR', `directory ${dataDir} is already open in this process`);
        }
        unlinkSync(path);
      }
    }
    throw new KafkaError('KAFKA_STORAGE_ERROR', `could not lock directory ${dataDir}`);
  }

  release(): void {
    try {
      unlinkSync(this.path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
}
