/** The #9 chaos schedule both streams crash tests run: worker SIGKILLs spread over the input, some with a broker SIGKILL first. */
export interface KillSchedule {
  workerKills: number;
  workers: number;
  records: number;
  /** Kill numbers (0-based) before which the broker is SIGKILLed and restarted too. */
  brokerKillsAt: readonly number[];
  /** At least this long between two kills, so recovery gets to run between them. */
  spacingMs: number;
  random: () => number;
  /** Resolves once this many input records are reflected in the output. */
  untilProgress: (records: number) => Promise<void>;
  restartBroker: () => Promise<void>;
  restartWorker: (index: number) => Promise<void>;
}

/**
 * Kill n of the schedule lands at a random point of the (n+1)-th slice of the input, so kills
 * fall while the job is busy rather than after it caught up. Resolves with the broker kills run.
 */
export async function runKillSchedule(s: KillSchedule): Promise<{ brokerKills: number }> {
  let brokerKills = 0;
  let lastKillMs = Date.now();
  for (let kill = 0; kill < s.workerKills; kill++) {
    await s.untilProgress(Math.floor(((kill + 0.5 + s.random() * 0.5) / (s.workerKills + 1)) * s.records));
    const spacingMs = lastKillMs + s.spacingMs - Date.now();
    if (spacingMs > 0) await new Promise((resolve) => setTimeout(resolve, spacingMs));
    lastKillMs = Date.now();
    if (s.brokerKillsAt.includes(kill)) {
      await s.restartBroker();
      brokerKills++;
    }
    await s.restartWorker(Math.floor(s.random() * s.workers));
  }
  return { brokerKills };
}
