import { type TaskId, taskIdText } from '../topology/processor.ts';

/** Per-task figures: what it processed, how far behind its inputs it is, and its restore. */
export interface TaskMetrics {
  readonly taskId: string;
  recordsProcessed: number;
  /** Records between the task's positions and its inputs' high watermarks, at the last batch seen. */
  lag: number;
  /** Changelog records replayed by the last restore, and those left (0 once running). */
  restoredRecords: number;
  restoreRemaining: number;
  /** Records dropped because every window they belong to had closed (dead-lettered or not). */
  lateRecordsDropped: number;
}

/** A snapshot of the application's figures, for callers and the Prometheus text. */
export interface StreamsMetricsSnapshot {
  readonly recordsIn: number;
  readonly recordsOut: number;
  readonly recordsDeadLettered: number;
  readonly recordsSkipped: number;
  readonly commits: number;
  readonly commitsFailed: number;
  readonly lastCommitLatencyMs: number;
  readonly maxCommitLatencyMs: number;
  readonly rebalances: number;
  readonly tasks: readonly TaskMetrics[];
  /** The latencies of every successful commit, summed: with `commits`, their mean. */
  readonly commitLatencyTotalMs: number;
}

/** Counters the runtime updates as it goes; read through `snapshot()` or `toPrometheus()`. */
export class StreamsMetrics {
  recordsIn = 0;
  recordsOut = 0;
  recordsDeadLettered = 0;
  recordsSkipped = 0;
  commits = 0;
  commitsFailed = 0;
  lastCommitLatencyMs = 0;
  maxCommitLatencyMs = 0;
  rebalances = 0;
  commitLatencyTotalMs = 0;
  private readonly tasks = new Map<string, TaskMetrics>();

  constructor(private readonly applicationId: string) {}

  task(id: TaskId): TaskMetrics {
    const key = taskIdText(id);
    let metrics = this.tasks.get(key);
    if (metrics === undefined) {
      metrics = { taskId: key, recordsProcessed: 0, lag: 0, restoredRecords: 0, restoreRemaining: 0, lateRecordsDropped: 0 };
      this.tasks.set(key, metrics);
    }
    return metrics;
  }

  removeTask(id: TaskId): void {
    this.tasks.delete(taskIdText(id));
  }

  recordCommit(latencyMs: number): void {
    this.commits++;
    this.lastCommitLatencyMs = latencyMs;
    this.commitLatencyTotalMs += latencyMs;
    if (latencyMs > this.maxCommitLatencyMs) this.maxCommitLatencyMs = latencyMs;
  }

  snapshot(): StreamsMetricsSnapshot {
    return {
      recordsIn: this.recordsIn,
      recordsOut: this.recordsOut,
      recordsDeadLettered: this.recordsDeadLettered,
      recordsSkipped: this.recordsSkipped,
      commits: this.commits,
      commitsFailed: this.commitsFailed,
      lastCommitLatencyMs: this.lastCommitLatencyMs,
      maxCommitLatencyMs: this.maxCommitLatencyMs,
      rebalances: this.rebalances,
      tasks: [...this.tasks.values()].map((t) => ({ ...t })).sort((a, b) => (a.taskId < b.taskId ? -1 : 1)),
      commitLatencyTotalMs: this.commitLatencyTotalMs,
    };
  }

  /** The figures in the Prometheus text exposition format, labelled with the application id. */
  toPrometheus(): string {
    const app = `application_id="${this.applicationId}"`;
    const lines: string[] = [];
    const metric = (name: string, type: 'counter' | 'gauge', help: string, samples: [string, number][]): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, value] of samples) lines.push(`${name}{${labels}} ${value}`);
    };
    metric('rill_streams_records_in_total', 'counter', 'Input records accepted by tasks.', [[app, this.recordsIn]]);
    metric('rill_streams_records_out_total', 'counter', 'Records written to output, repartition, changelog and dead-letter topics.', [[app, this.recordsOut]]);
    metric('rill_streams_records_dead_lettered_total', 'counter', 'Failed records written to the dead-letter topic.', [[app, this.recordsDeadLettered]]);
    metric('rill_streams_records_skipped_total', 'counter', 'Failed records skipped by policy.', [[app, this.recordsSkipped]]);
    metric('rill_streams_commits_total', 'counter', 'Commits that succeeded.', [[app, this.commits]]);
    metric('rill_streams_commits_failed_total', 'counter', 'Commits that failed and were recovered from.', [[app, this.commitsFailed]]);
    metric('rill_streams_commit_latency_ms', 'gauge', 'Latency of the last commit.', [[app, this.lastCommitLatencyMs]]);
    metric('rill_streams_rebalances_total', 'counter', 'Rebalances this process went through.', [[app, this.rebalances]]);
    metric('rill_streams_commit_latency_ms_total', 'counter', 'Latencies of the successful commits, summed (divide by rill_streams_commits_total for the mean).', [[app, this.commitLatencyTotalMs]]);
    metric('rill_streams_commit_latency_max_ms', 'gauge', 'Latency of the slowest commit.', [[app, this.maxCommitLatencyMs]]);
    const tasks = [...this.tasks.values()];
    const perTask = (pick: (t: TaskMetrics) => number): [string, number][] => tasks.map((t) => [`${app},task_id="${t.taskId}"`, pick(t)]);
    metric('rill_streams_task_records_processed_total', 'counter', 'Input records a task processed.', perTask((t) => t.recordsProcessed));
    metric('rill_streams_task_lag_records', 'gauge', 'Records between a task\'s positions and its inputs\' high watermarks.', perTask((t) => t.lag));
    metric('rill_streams_task_restore_remaining_records', 'gauge', 'Changelog records left for a restoring task.', perTask((t) => t.restoreRemaining));
    metric('rill_streams_task_restored_records', 'gauge', 'Changelog records the task\'s last restore replayed.', perTask((t) => t.restoredRecords));
    metric('rill_streams_task_late_records_dropped_total', 'counter', 'Records a task dropped because every window they belong to had closed.', perTask((t) => t.lateRecordsDropped));
    return `${lines.join('\n')}\n`;
  }
}
