/** The producer's transaction states (Kafka's TransactionManager, simplified to what the client drives). */
export const TxnState = {
  uninitialized: 'uninitialized',
  ready: 'ready',
  inTransaction: 'inTransaction',
  committing: 'committing',
  aborting: 'aborting',
  /** A non-retriable error (fencing, epoch errors); only close() is left. */
  fatal: 'fatal',
} as const;
export type TxnStateValue = (typeof TxnState)[keyof typeof TxnState];

const TRANSITIONS: Readonly<Record<TxnStateValue, readonly TxnStateValue[]>> = {
  uninitialized: ['ready', 'fatal'],
  ready: ['inTransaction', 'fatal'],
  inTransaction: ['committing', 'aborting', 'fatal'],
  committing: ['ready', 'aborting', 'fatal'],
  aborting: ['ready', 'fatal'],
  fatal: [],
};

export function assertTransition(from: TxnStateValue, to: TxnStateValue): void {
  if (!TRANSITIONS[from].includes(to)) throw new Error(`invariant: transaction state ${from} cannot move to ${to}`);
}

export function canTransition(from: TxnStateValue, to: TxnStateValue): boolean {
  return TRANSITIONS[from].includes(to);
}
