import { encode } from '@msgpack/msgpack';
import { CliFailure } from './cli-errors.ts';
import type { InputRecord } from './produce-input.ts';

/** Where `rill produce` sends records: the Kafka protocol or the HTTP API. Each call's records are in input order. */
export interface RecordSink {
  send(records: readonly InputRecord[]): Promise<{ partition: number; offset: number }[]>;
  close(): Promise<void>;
}

/** Records per HTTP request; the API's default limit is 10,000. */
export const HTTP_RECORDS_PER_REQUEST = 1_000;

/**
 * POST /v1/topics/:topic/records, one request at a time, as msgpack so keys, values and headers are
 * stored byte for byte (a JSON body would store values as JSON text). With an idempotency key, the
 * n-th request (from 0) carries `Idempotency-Key: <key>-<n>`: running the same command on the same
 * input again within the broker's idempotency window appends nothing twice.
 */
export class HttpRecordSink implements RecordSink {
  private requests = 0;

  constructor(
    private readonly baseUrl: string,
    private readonly topic: string,
    private readonly options: { idempotencyKey?: string; token?: string },
  ) {}

  async send(records: readonly InputRecord[]): Promise<{ partition: number; offset: number }[]> {
    const body = encode(
      {
        records: records.map((r) => ({
          key: r.key,
          value: r.value,
          headers: r.headers.map((h) => ({ key: h.key, value: h.value })),
          ...(r.partition === undefined ? {} : { partition: r.partition }),
          ...(r.timestamp === undefined ? {} : { timestamp: r.timestamp }),
        })),
      },
      { ignoreUndefined: true },
    );
    const headers: Record<string, string> = { 'content-type': 'application/msgpack', accept: 'application/json' };
    if (this.options.idempotencyKey !== undefined) headers['idempotency-key'] = `${this.options.idempotencyKey}-${this.requests}`;
    if (this.options.token !== undefined) headers['authorization'] = `Bearer ${this.options.token}`;
    this.requests++;
    const url = `${this.baseUrl.replace(/\/+$/, '')}/v1/topics/${encodeURIComponent(this.topic)}/records`;
    let response: Response;
    try {
      response = await fetch(url, { method: 'POST', headers, body, signal: AbortSignal.timeout(30_000) });
    } catch (error) {
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      throw new CliFailure(`cannot reach the HTTP API at ${this.baseUrl} (${cause?.code ?? cause?.message ?? (error as Error).message})`);
    }
    const text = await response.text();
    if (!response.ok) {
      let detail = text.slice(0, 300);
      try {
        const problem = JSON.parse(text) as { detail?: string; errors?: { path: string; message: string }[] };
        detail = problem.detail ?? detail;
        if (problem.errors !== undefined && problem.errors.length > 0) detail += `: ${problem.errors.map((e) => `${e.path} ${e.message}`).join('; ')}`;
      } catch {
        // Not problem+json: the start of the body says enough.
      }
      throw new CliFailure(`the HTTP API refused the records (${response.status}): ${detail}`);
    }
    return (JSON.parse(text) as { records: { partition: number; offset: number }[] }).records;
  }

  async close(): Promise<void> {}
}
