/** A bad command line (unknown flag, wrong value, missing argument): one sentence on stderr, exit code 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** A command that ran and failed for a reason the user can act on (no such topic, broker unreachable): one sentence, exit code 1. */
export class CliFailure extends Error {
  override readonly name = 'CliFailure';
}

export const ExitCode = { ok: 0, failure: 1, usage: 2, interrupted: 130 } as const;
