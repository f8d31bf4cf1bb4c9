/** Samples this process's resident set size on a timer and keeps the maximum. */
export class RssSampler {
  private timer: ReturnType<typeof setInterval> | undefined;
  private maxBytes = 0;

  constructor(private readonly intervalMs = 50) {}

  start(): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), this.intervalMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private sample(): number {
    const rss = process.memoryUsage().rss;
    this.maxBytes = Math.max(this.maxBytes, rss);
    return rss;
  }

  currentMb(): number {
    return this.sample() / 1e6;
  }

  get maxMb(): number {
    return this.maxBytes / 1e6;
  }
}
