import type { IsolationLevelValue } from '../fetch/fetch-types.ts';
import { BodyFormat } from './body-codec.ts';
import type { HttpContext } from './http-context.ts';
import { HttpProblem } from './problem.ts';
import { fetchRecords } from './read-records.ts';
import { recordForResponse } from './record-codec.ts';

const encoder = new TextEncoder();
const RECORDS_PER_FETCH = 500;

/** Parses a `Last-Event-ID` of this partition's stream (`<partition>:<offset>`) into the offset to resume from. */
export function resumeOffset(lastEventId: string | undefined, partition: number): number | undefined {
  if (lastEventId === undefined || lastEventId.trim() === '') return undefined;
  const match = /^(\d+):(\d+)$/.exec(lastEventId.trim());
  if (match === null || Number(match[1]) !== partition) {
    throw new HttpProblem('badRequest', `Last-Event-ID must be "${partition}:<offset>" for this stream, got "${lastEventId}"`);
  }
  return Number(match[2]) + 1;
}

/**
 * A live tail of one partition as server-sent events. Each record is one `record` event whose id
 * is `<partition>:<offset>` and whose data is the record as JSON reads return it; a client that
 * reconnects with that id as `Last-Event-ID` resumes right after it. The stream waits in the
 * broker's long-poll fetch, so an append wakes it at once; with nothing new for
 * `streamHeartbeatMs` it sends a comment line. It is pull-driven: a slow client applies
 * backpressure instead of buffering records without bound.
 */
export function recordStream(
  ctx: HttpContext,
  topic: string,
  partition: number,
  startOffset: number,
  isolation: IsolationLevelValue,
  requestSignal: AbortSignal,
): Response {
  if (ctx.streams.size >= ctx.options.maxStreams) {
    throw new HttpProblem('unavailable', `${ctx.options.maxStreams} live tails are open; try again later`, { headers: { 'retry-after': '5' } });
  }
  ctx.metrics.streams.inc({}, 1);
  const abort = new AbortController();
  let closed = false;
  let streamController: ReadableStreamDefaultController<Uint8Array> | undefined;
  const close = (): void => {
    if (closed) return;
    closed = true;
    ctx.streams.delete(close);
    ctx.metrics.streams.inc({}, -1);
    abort.abort();
    try {
      streamController?.close();
    } catch {
      // Already closed or cancelled by the client.
    }
  };
  ctx.streams.add(close);
  requestSignal.addEventListener('abort', close, { once: true });
  let offset = startOffset;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      streamController = controller;
      controller.enqueue(encoder.encode(`retry: 1000\n: tailing ${topic}-${partition} from offset ${offset}\n\n`));
    },
    async pull(controller) {
      try {
        const fetched = await fetchRecords(
          ctx,
          topic,
          partition,
          { offset, limit: RECORDS_PER_FETCH, isolation, maxWaitMs: ctx.options.streamHeartbeatMs },
          abort.signal,
        );
        if (closed) return;
        if (fetched.records.length === 0) {
          controller.enqueue(encoder.encode(': keepalive\n\n'));
          offset = fetched.nextOffset;
          return;
        }
        let text = '';
        for (const record of fetched.records) {
          const data = JSON.stringify(recordForResponse(partition, record, BodyFormat.json));
          text += `event: record\nid: ${partition}:${record.offset}\ndata: ${data}\n\n`;
        }
        offset = fetched.nextOffset;
        controller.enqueue(encoder.encode(text));
      } catch (error) {
        if (closed) return;
        const problem = error instanceof Error ? error.message : String(error);
        controller.enqueue(encoder.encode(`event: error\ndata: ${JSON.stringify({ detail: problem })}\n\n`));
        close();
      }
    },
    cancel() {
      close();
    },
  });
  return new Response(body, {
    headers: {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      'x-accel-buffering': 'no',
    },
  });
}
