/** A streams application's lifecycle states (Kafka Streams' KafkaStreams.State). */
export const AppState = {
  created: 'CREATED',
  /** Joining the group, being assigned tasks, or restoring their stores. */
  rebalancing: 'REBALANCING',
  running: 'RUNNING',
  pendingShutdown: 'PENDING_SHUTDOWN',
  notRunning: 'NOT_RUNNING',
  pendingError: 'PENDING_ERROR',
  error: 'ERROR',
} as const;
export type AppStateValue = (typeof AppState)[keyof typeof AppState];

const { created, rebalancing, running, pendingShutdown, notRunning, pendingError, error } = AppState;

/** The allowed transitions, from each state to the states it may move to. */
export const APP_TRANSITIONS: Readonly<Record<AppStateValue, readonly AppStateValue[]>> = {
  CREATED: [rebalancing, pendingShutdown, pendingError],
  REBALANCING: [running, rebalancing, pendingShutdown, pendingError],
  RUNNING: [rebalancing, pendingShutdown, pendingError],
  PENDING_SHUTDOWN: [notRunning],
  NOT_RUNNING: [],
  PENDING_ERROR: [error],
  ERROR: [],
};

export function canTransition(from: AppStateValue, to: AppStateValue): boolean {
  return APP_TRANSITIONS[from].includes(to);
}

/** Moves `holder` to `to`; a transition the table does not allow is a broken invariant. */
export function transition(holder: { state: AppStateValue }, to: AppStateValue): AppStateValue {
  const from = holder.state;
  if (!canTransition(from, to)) throw new Error(`invariant broken: a streams application cannot move from ${from} to ${to}`);
  holder.state = to;
  return from;
}
