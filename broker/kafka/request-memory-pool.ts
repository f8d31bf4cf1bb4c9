/**
 * A server-wide bound on request bytes held in memory: bytes buffered for frames still arriving
 * plus frames being handled (Kafka's `queued.max.request.bytes`). Connections report what they
 * hold; while the pool is over capacity they stop reading, and resume when it drains. Each
 * connection can overshoot by at most one socket read, so the total stays near the capacity
 * whatever the number of connections.
 */
export class RequestMemoryPool {
  private usedBytes = 0;
  private readonly waiting = new Set<() => void>();

  constructor(readonly capacityBytes: number) {
    if (!(capacityBytes > 0)) throw new Error(`invariant: request memory capacity must be positive, got ${capacityBytes}`);
  }

  get used(): number {
    return this.usedBytes;
  }

  get isFull(): boolean {
    return this.usedBytes >= this.capacityBytes;
  }

  /** Records a change in what one connection holds (negative when it releases bytes). */
  adjust(deltaBytes: number): void {
    this.usedBytes += deltaBytes;
    if (this.usedBytes < 0) throw new Error(`invariant: request memory went negative (${this.usedBytes})`);
    if (deltaBytes < 0 && !this.isFull && this.waiting.size > 0) {
      const resumes = [...this.waiting];
      this.waiting.clear();
      for (const resume of resumes) resume();
    }
  }

  /** Calls `resume` once the pool has room again; at most one registration per connection. */
  whenAvailable(resume: () => void): void {
    this.waiting.add(resume);
  }

  forget(resume: () => void): void {
    this.waiting.delete(resume);
  }
}
