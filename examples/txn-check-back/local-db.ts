import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';

/**
 * The producer's local "database": a JSON-lines file, each line fsynced before the call returns.
 * A local transaction writes one `committed` line naming the producer instance (its producer id
 * and epoch) and the order; after the Kafka transaction commits, a `published` line follows.
 */
export interface DbLine {
  orderId: string;
  producerId: number;
  producerEpoch: number;
  state: 'committed' | 'published';
}

export function appendDbLine(path: string, line: DbLine): void {
  const fd = openSync(path, 'a');
  try {
    writeSync(fd, `${JSON.stringify(line)}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}

export function readDb(path: string): DbLine[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as DbLine);
}

/**
 * The check: the open Kafka transaction of producer instance (producerId, producerEpoch) committed
 * locally when that instance's latest line is a commit not yet published. A published latest line
 * means the open transaction is a later one that never reached its local commit.
 */
export function decideFromDb(path: string, producerId: number, producerEpoch: number): 'commit' | 'abort' {
  const mine = readDb(path).filter((l) => l.producerId === producerId && l.producerEpoch === producerEpoch);
  return mine.at(-1)?.state === 'committed' ? 'commit' : 'abort';
}
