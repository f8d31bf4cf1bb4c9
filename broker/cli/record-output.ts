import type { ConsumerRecord } from '../../sdk/client/consumer/consumer-types.ts';
import { BodyFormat } from '../http/body-codec.ts';
import { recordForResponse } from '../http/record-codec.ts';

export const CONSUME_FORMATS = ['json', 'text', 'raw'] as const;
export type ConsumeFormat = (typeof CONSUME_FORMATS)[number];

const utf8 = new TextDecoder();

/**
 * A consumed record as `rill consume` prints it:
 * - json: one object per line, `{topic, partition, offset, timestamp, key, value, headers}` with the
 *   HTTP API's read conventions (record-codec.ts): a value holding JSON text is that JSON, other
 *   UTF-8 text is a string with `valueEncoding: "utf8"`, other bytes base64 with
 *   `valueEncoding: "base64"` (`keyEncoding` and a header's `encoding` likewise). `rill produce
 *   --json-envelope` reads these lines back unchanged.
 * - text: the value as UTF-8, one per line (an empty line for a null value); with `keySeparator`,
 *   `key<SEP>value`.
 * - raw: the value's bytes, nothing between records.
 */
export function formatRecord(record: ConsumerRecord<Uint8Array, Uint8Array>, format: ConsumeFormat, keySeparator: string | undefined): string | Uint8Array {
  switch (format) {
    case 'json':
      return `${JSON.stringify({ topic: record.topic, ...recordForResponse(record.partition, record, BodyFormat.json) })}\n`;
    case 'text': {
      const value = record.value === null ? '' : utf8.decode(record.value);
      return keySeparator === undefined ? `${value}\n` : `${record.key === null ? '' : utf8.decode(record.key)}${keySeparator}${value}\n`;
    }
    case 'raw':
      return record.value ?? new Uint8Array(0);
  }
}

/**
 * Writes to stdout, waiting for it to drain when the reader is slower than the broker. A closed
 * reader (`rill consume | head`) ends the output quietly: `closed` turns true and writes are dropped.
 */
export class StdoutWriter {
  private pending: (string | Uint8Array)[] = [];
  closed = false;
  /** Any write error (EPIPE above all) means nobody reads any more. */
  private readonly onError = (): void => {
    this.closed = true;
  };

  constructor(private readonly stream: NodeJS.WriteStream = process.stdout) {
    stream.on('error', this.onError);
  }

  /** Queues output; call `flush` after each consumer batch (at most a few thousand records), which bounds what is held. */
  push(chunk: string | Uint8Array): void {
    this.pending.push(chunk);
  }

  async flush(): Promise<void> {
    if (this.pending.length === 0 || this.closed) {
      this.pending = [];
      return;
    }
    const chunks = this.pending;
    this.pending = [];
    const data = chunks.every((c) => typeof c === 'string') ? chunks.join('') : Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c) : c)));
    if (!this.stream.write(data)) {
      await new Promise<void>((resolve) => {
        const done = (): void => {
          this.stream.off('drain', done);
          this.stream.off('close', done);
          resolve();
        };
        this.stream.on('drain', done);
        this.stream.on('close', done);
      });
    }
  }
}
