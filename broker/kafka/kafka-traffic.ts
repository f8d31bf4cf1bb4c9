import { apiSpec } from '../../sdk/protocol/mod.ts';

/** Request counts are kept for api keys below this; Kafka's keys stay well under it, higher ones count as `unknown`. */
const TRACKED_API_KEYS = 128;

/** What readers of the totals (the HTTP API's `/metrics` and `/v1/summary`) see: nothing they could change. */
export interface KafkaTrafficTotals {
  readonly receivedBytes: number;
  readonly sentBytes: number;
  requestsByApi(): ReadonlyMap<string, number>;
}

/**
 * Running totals of a Kafka listener's wire traffic since it started, counted at the socket:
 * protocol bytes (size prefixes included; after TLS decryption, so without TLS overhead) and
 * request frames by the api key in their header, whether or not the broker then serves them.
 * Counting is one addition per read chunk, response or request, into fixed-size storage.
 */
export class KafkaTraffic implements KafkaTrafficTotals {
  receivedBytes = 0;
  sentBytes = 0;
  private readonly requestsByApiKey = new Float64Array(TRACKED_API_KEYS);
  private unknownRequests = 0;

  /** Counts a request frame (without its size prefix) by its header's api key, an int16 at its start. */
  countRequest(frame: Uint8Array): void {
    const apiKey = frame.byteLength >= 2 ? (frame[0]! << 8) | frame[1]! : -1;
    if (apiKey >= 0 && apiKey < TRACKED_API_KEYS) this.requestsByApiKey[apiKey]!++;
    else this.unknownRequests++;
  }

  /** Requests so far by API name (`Produce`, `Fetch`, ...; `unknown` for keys the protocol does not name), only those seen. */
  requestsByApi(): Map<string, number> {
    const counts = new Map<string, number>();
    const add = (api: string, count: number): void => {
      counts.set(api, (counts.get(api) ?? 0) + count);
    };
    this.requestsByApiKey.forEach((count, apiKey) => {
      if (count > 0) add(apiSpec(apiKey)?.name ?? 'unknown', count);
    });
    if (this.unknownRequests > 0) add('unknown', this.unknownRequests);
    return counts;
  }
}
