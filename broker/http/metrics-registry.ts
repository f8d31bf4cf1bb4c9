/**
 * A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
 * exposition format (version 0.0.4). Label sets are bounded per metric; past the bound new label
 * sets are folded into one `overflow="true"` series instead of growing without limit.
 */
type Labels = Readonly<Record<string, string>>;

const MAX_SERIES_PER_METRIC = 10_000;

/**
 * The series key: labels sorted by name, so one label set is one series whatever the order given.
 * Callers on hot paths pass labels already sorted, which skips the sort.
 */
function labelKey(labels: Labels): string {
  let key = '';
  let previous = '';
  for (const k in labels) {
    if (k < previous) return sortedLabelKey(labels);
    previous = k;
    key += `${key === '' ? '' : ','}${k}="${escapeLabel(labels[k]!)}"`;
  }
  return key;
}

function sortedLabelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}="${escapeLabel(labels[k]!)}"`)
    .join(',');
}

const LABEL_SPECIALS = /[\\\n"]/;

function escapeLabel(value: string): string {
  if (!LABEL_SPECIALS.test(value)) return value;
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

function seriesName(name: string, key: string): string {
  return key === '' ? name : `${name}{${key}}`;
}

function formatNumber(value: number): string {
  if (value === Infinity) return '+Inf';
  if (value === -Infinity) return '-Inf';
  return String(value);
}

/** A label name, then its value, then the next name, ...: the series a label set given in that order resolved to. */
class LookupNode<S> {
  readonly children = new Map<string, LookupNode<S>>();
  series: S | undefined;
}

function child<S>(node: LookupNode<S>, key: string): LookupNode<S> {
  let next = node.children.get(key);
  if (next === undefined) {
    next = new LookupNode<S>();
    node.children.set(key, next);
  }
  return next;
}

abstract class Metric<S> {
  protected readonly series = new Map<string, S>();
  /** Finds a repeated label set's series without building its key (request paths record several per request). */
  private lookup = new LookupNode<S>();
  private lookupSize = 0;

  constructor(
    readonly name: string,
    readonly help: string,
  ) {}

  protected abstract newSeries(): S;

  protected get(labels: Labels): S {
    let node: LookupNode<S> | undefined = this.lookup;
    for (const k in labels) {
      node = node.children.get(k)?.children.get(labels[k]!);
      if (node === undefined) break;
    }
    if (node?.series !== undefined) return node.series;
    const series = this.resolve(labels);
    if (this.lookupSize < MAX_SERIES_PER_METRIC) {
      let path = this.lookup;
      for (const k in labels) path = child(child(path, k), labels[k]!);
      path.series = series;
      this.lookupSize++;
    }
    return series;
  }

  private resolve(labels: Labels): S {
    let key = labelKey(labels);
    let found = this.series.get(key);
    if (found === undefined) {
      if (this.series.size >= MAX_SERIES_PER_METRIC) key = 'overflow="true"';
      found = this.series.get(key) ?? this.newSeries();
      this.series.set(key, found);
    }
    return found;
  }

  protected clear(): void {
    this.series.clear();
    this.lookup = new LookupNode();
    this.lookupSize = 0;
  }

  abstract render(): string[];
}

export class Counter extends Metric<{ value: number }> {
  protected newSeries(): { value: number } {
    return { value: 0 };
  }

  inc(labels: Labels = {}, by = 1): void {
    this.get(labels).value += by;
  }

  /** Mirrors a running total kept elsewhere (sampled at scrape time); it must never decrease. */
  setTotal(labels: Labels, total: number): void {
    const s = this.get(labels);
    if (total < s.value) throw new Error(`invariant broken: counter ${this.name} would go from ${s.value} down to ${total}`);
    s.value = total;
  }

  /** The value of the series with exactly these labels (0 before its first increment), for JSON summaries of the same figures. */
  current(labels: Labels): number {
    return this.series.get(labelKey(labels))?.value ?? 0;
  }

  /**
   * Drops every series: for totals mirrored from state that can start over (a partition deleted and
   * created again), which Prometheus reads as a counter reset.
   */
  reset(): void {
    this.clear();
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} counter`];
    for (const [key, s] of this.series) lines.push(`${seriesName(this.name, key)} ${formatNumber(s.value)}`);
    return lines;
  }
}

export class Gauge extends Metric<{ value: number }> {
  protected newSeries(): { value: number } {
    return { value: 0 };
  }

  set(labels: Labels, value: number): void {
    this.get(labels).value = value;
  }

  inc(labels: Labels = {}, by = 1): void {
    this.get(labels).value += by;
  }

  /** Drops every series; collectors that rebuild a gauge at scrape time call this first. */
  reset(): void {
    this.clear();
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} gauge`];
    for (const [key, s] of this.series) lines.push(`${seriesName(this.name, key)} ${formatNumber(s.value)}`);
    return lines;
  }
}

export const LATENCY_BUCKETS_SECONDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] as const;

export class Histogram extends Metric<{ counts: number[]; sum: number; count: number }> {
  constructor(
    name: string,
    help: string,
    private readonly buckets: readonly number[] = LATENCY_BUCKETS_SECONDS,
  ) {
    super(name, help);
  }

  protected newSeries(): { counts: number[]; sum: number; count: number } {
    return { counts: new Array<number>(this.buckets.length).fill(0), sum: 0, count: 0 };
  }

  observe(labels: Labels, value: number): void {
    const s = this.get(labels);
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const [key, s] of this.series) {
      const prefix = key === '' ? '' : `${key},`;
      this.buckets.forEach((bound, i) => lines.push(`${this.name}_bucket{${prefix}le="${formatNumber(bound)}"} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket{${prefix}le="+Inf"} ${s.count}`);
      lines.push(`${seriesName(`${this.name}_sum`, key)} ${s.sum}`);
      lines.push(`${seriesName(`${this.name}_count`, key)} ${s.count}`);
    }
    return lines;
  }
}

export class MetricsRegistry {
  private readonly metrics: { readonly name: string; render(): string[] }[] = [];
  private readonly collectors: (() => void)[] = [];

  counter(name: string, help: string): Counter {
    return this.add(new Counter(name, help));
  }

  gauge(name: string, help: string): Gauge {
    return this.add(new Gauge(name, help));
  }

  histogram(name: string, help: string, buckets?: readonly number[]): Histogram {
    return this.add(new Histogram(name, help, buckets));
  }

  /** Runs before every scrape, to refresh gauges that mirror state (partition sizes, lag). */
  onCollect(collect: () => void): void {
    this.collectors.push(collect);
  }

  private add<M extends { readonly name: string; render(): string[] }>(metric: M): M {
    if (this.metrics.some((m) => m.name === metric.name)) throw new Error(`metric ${metric.name} registered twice`);
    this.metrics.push(metric);
    return metric;
  }

  render(): string {
    for (const collect of this.collectors) collect();
    return `${this.metrics.flatMap((m) => m.render()).join('\n')}\n`;
  }
}
