import type { PeerSession } from './peer.ts';

export interface LatencyResult {
  sent: number;
  received: number;
  /** Samples after the warm-up. */
  samples: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** Send to the server's acknowledgement (after the warm-up), for telling the write path from the read path. */
  ackP50Ms: number;
  ackP99Ms: number;
  sendErrors: number;
}

/** Byte offset of the send time (float64, performance.now() in ms) inside each record's payload. */
const STAMP_AT = 0;

/** The nearest-rank `q` quantile (0..1) of ascending `sorted`; NaN when it is empty. */
export function percentile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil(q * sorted.length) - 1)]!;
}

/**
 * Sends `rate` records/s for `warmupSeconds + seconds`, one send call per record with the send
 * time written into its payload, and measures receive time minus send time in the subscriber (the
 * same process, so one clock). Pacing runs on a ~1 ms timer: each tick sends the records that have
 * come due (about 5 at 5,000/s), each stamped when its own send starts. Samples from the warm-up
 * are dropped.
 */
export async function measureLatency(
  session: PeerSession,
  stream: string,
  options: { rate: number; seconds: number; warmupSeconds: number; valueBytes: number },
): Promise<LatencyResult> {
  const total = Math.round(options.rate * (options.warmupSeconds + options.seconds));
  const warmup = Math.round(options.rate * options.warmupSeconds);
  const latencies = new Float64Array(total);
  const ackLatencies = new Float64Array(total);
  let acks = 0;
  let received = 0;
  let samples = 0;
  let allReceived: () => void = () => {};
  const done = new Promise<void>((resolve) => (allReceived = resolve));
  const link = await session.openLatency(stream, (value) => {
    if (value.length < STAMP_AT + 12) return;
    const now = performance.now();
    const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
    const index = view.getUint32(STAMP_AT + 8);
    const latency = now - view.getFloat64(STAMP_AT);
    received++;
    if (index >= warmup && samples < latencies.length) latencies[samples++] = latency;
    if (received === total) allReceived();
  });
  let sent = 0;
  let sendErrors = 0;
  let firstError: unknown;
  const start = performance.now();
  try {
    while (sent < total) {
      const due = Math.min(total, Math.floor(((performance.now() - start) * options.rate) / 1000));
      while (sent < due) {
        const value = new Uint8Array(options.valueBytes);
        const view = new DataView(value.buffer);
        view.setUint32(STAMP_AT + 8, sent);
        const sentMs = performance.now();
        view.setFloat64(STAMP_AT, sentMs);
        const measured = sent >= warmup;
        link.send(value).then(
          () => {
            if (measured) ackLatencies[acks++] = performance.now() - sentMs;
          },
          (error: unknown) => {
            sendErrors++;
            firstError ??= error;
          },
        );
        sent++;
      }
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    // Whatever has not arrived 5 s after the last send counts as lost.
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, 5_000)))]);
    clearTimeout(timer);
  } finally {
    await link.close();
  }
  if (sendErrors > 0 && received === 0) throw firstError;
  const sorted = latencies.slice(0, samples).sort();
  const ackSorted = ackLatencies.slice(0, acks).sort();
  return {
    sent,
    received,
    samples,
    p50Ms: percentile(sorted, 0.5),
    p99Ms: percentile(sorted, 0.99),
    maxMs: samples > 0 ? sorted[samples - 1]! : NaN,
    ackP50Ms: percentile(ackSorted, 0.5),
    ackP99Ms: percentile(ackSorted, 0.99),
    sendErrors,
  };
}
