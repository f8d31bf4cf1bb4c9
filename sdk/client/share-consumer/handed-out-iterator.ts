/** What `HandedOutIterator` needs of its consumer. */
export interface HandedOutSource<T> {
  /** Joins the group (once). */
  start(): Promise<void>;
  /** The next record fetched and not yet handed out; undefined when none is left. */
  nextBuffered(): T | undefined;
  /** Fetches more (one ShareFetch, which also carries the acknowledgements made so far). */
  refill(): Promise<void>;
  isClosed(): boolean;
  /** Whether a record handed out and left unacknowledged is accepted when the next one is asked for. */
  readonly acceptsImplicitly: boolean;
}

const DONE: IteratorResult<never> = Object.freeze({ done: true, value: undefined });

/**
 * The `for await` iterator of a share consumer. A record already fetched is handed out through one
 * resolved promise, not through an async generator's queue (several promise jobs per record, a
 * tenth of a consumer's CPU at a few hundred thousand records a second); only a step that must
 * wait (the first join, a fetch) runs as an async function. Steps run one at a time, in call order.
 */
export class HandedOutIterator<T extends { readonly acknowledged: boolean; accept(): void }> implements AsyncIterator<T> {
  /** The record handed out last: accepted in implicit mode when the next is asked for, unless acknowledged. */
  private previous: T | undefined;
  private started = false;
  private finished = false;
  private running: Promise<IteratorResult<T>> | undefined;

  constructor(private readonly source: HandedOutSource<T>) {}

  next(): Promise<IteratorResult<T>> {
    if (this.running === undefined) {
      const ready = this.handOut();
      if (ready !== undefined) return Promise.resolve(ready);
    }
    const run = (this.running ?? Promise.resolve(DONE)).catch(() => DONE).then(() => this.step());
    this.running = run;
    const clear = (): void => {
      if (this.running === run) this.running = undefined;
    };
    run.then(clear, clear);
    return run;
  }

  /** A `break` out of `for await`: the last record handed out is accepted (implicit mode) unless the consumer closed. */
  return(): Promise<IteratorResult<T>> {
    this.finish();
    return Promise.resolve(DONE);
  }

  /** The next result without waiting, or undefined when it needs a wait (not started, buffer empty, closed). */
  private handOut(): IteratorResult<T> | undefined {
    if (this.finished) return DONE;
    if (!this.started || this.source.isClosed()) return undefined;
    this.settlePrevious();
    const record = this.source.nextBuffered();
    if (record === undefined) return undefined;
    this.previous = record;
    return { done: false, value: record };
  }

  private async step(): Promise<IteratorResult<T>> {
    try {
      if (!this.started) {
        await this.source.start();
        this.started = true;
      }
      for (;;) {
        if (this.source.isClosed()) {
          // Closing released or acknowledged what was pending; nothing is accepted after it.
          this.previous = undefined;
          this.finished = true;
        }
        const ready = this.handOut();
        if (ready !== undefined) return ready;
        await this.source.refill();
      }
    } catch (error) {
      this.finish();
      throw error;
    }
  }

  private finish(): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.source.isClosed()) this.settlePrevious();
    this.previous = undefined;
  }

  private settlePrevious(): void {
    const previous = this.previous;
    this.previous = undefined;
    if (previous !== undefined && !previous.acknowledged && this.source.acceptsImplicitly) previous.accept();
  }
}
