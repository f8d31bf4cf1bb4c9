/** Kafka's TransactionState, the states of one transactional id. */
export const TxnState = {
  Empty: 'Empty',
  Ongoing: 'Ongoing',
  PrepareCommit: 'PrepareCommit',
  PrepareAbort: 'PrepareAbort',
  CompleteCommit: 'CompleteCommit',
  CompleteAbort: 'CompleteAbort',
  Dead: 'Dead',
  /**
   * Rill's own state (not Kafka's): an open transaction past its timeout, or one a successor's
   * InitProducerId interrupted, whose producer registered a checker. The producer is fenced (epoch
   * bumped) and the coordinator asks the checker whether to commit or abort (txn-check-back.ts).
   */
  Checking: 'Checking',
} as const;
export type TxnStateValue = (typeof TxnState)[keyof typeof TxnState];

const { Empty, Ongoing, PrepareCommit, PrepareAbort, CompleteCommit, CompleteAbort, Dead, Checking } = TxnState;

/**
 * The allowed transitions, from each state to the states it may move to (Kafka's
 * TransactionState.validPreviousStates, inverted). Ongoing → PrepareAbort also covers fencing an
 * old producer and aborting a timed-out transaction; Ongoing → Checking → PrepareCommit/PrepareAbort
 * is the check-back path, whose outcome completes exactly as an EndTxn would.
 */
export const TXN_TRANSITIONS: Readonly<Record<TxnStateValue, readonly TxnStateValue[]>> = {
  Empty: [Empty, Ongoing, Dead],
  Ongoing: [Ongoing, PrepareCommit, PrepareAbort, Checking],
  PrepareCommit: [CompleteCommit],
  PrepareAbort: [CompleteAbort],
  CompleteCommit: [Empty, Ongoing, Dead],
  CompleteAbort: [Empty, Ongoing, Dead],
  Dead: [],
  Checking: [PrepareCommit, PrepareAbort],
};

export function canTransition(from: TxnStateValue, to: TxnStateValue): boolean {
  return TXN_TRANSITIONS[from].includes(to);
}

/** Moves `holder` to `to`; a transition the table does not allow is a broken invariant. */
export function transition(holder: { transactionalId: string; state: TxnStateValue }, to: TxnStateValue): void {
  if (!canTransition(holder.state, to)) {
    throw new Error(`invariant broken: transaction "${holder.transactionalId}" cannot move from ${holder.state} to ${to}`);
  }
  holder.state = to;
}
