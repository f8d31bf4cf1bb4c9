/** Reads server-sent events from a response body, one `record` event at a time. */
export class SseReader {
  private readonly reader: { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> };
  private readonly decoder = new TextDecoder();
  private buffer = '';

  constructor(body: ReadableStream<Uint8Array>) {
    this.reader = body.getReader() as SseReader['reader'];
  }

  /** The next event with data (comments and retry lines are skipped). */
  async next(): Promise<{ event: string; id: string; data: unknown }> {
    for (;;) {
      const end = this.buffer.indexOf('\n\n');
      if (end >= 0) {
        const block = this.buffer.slice(0, end);
        this.buffer = this.buffer.slice(end + 2);
        const fields: Record<string, string> = {};
        for (const line of block.split('\n')) {
          const colon = line.indexOf(':');
          if (colon <= 0) continue;
          fields[line.slice(0, colon)] = line.slice(colon + 1).trimStart();
        }
        if (fields['data'] !== undefined) return { event: fields['event'] ?? 'message', id: fields['id'] ?? '', data: JSON.parse(fields['data']) };
        continue;
      }
      const { done, value } = await this.reader.read();
      if (done) throw new Error('the event stream ended');
      this.buffer += this.decoder.decode(value!, { stream: true });
    }
  }

  async cancel(): Promise<void> {
    await this.reader.cancel();
  }
}
