/** KIP-932's states of one in-flight record of a share partition. */
export const RecordState = {
  AVAILABLE: 'AVAILABLE',
  ACQUIRED: 'ACQUIRED',
  ACKNOWLEDGED: 'ACKNOWLEDGED',
  ARCHIVED: 'ARCHIVED',
} as const;
export type RecordStateValue = (typeof RecordState)[keyof typeof RecordState];

const { AVAILABLE, ACQUIRED, ACKNOWLEDGED, ARCHIVED } = RecordState;

/**
 * The allowed transitions. AVAILABLE → ARCHIVED covers offsets that hold no record (control
 * batches) and records the log start offset passed; ACQUIRED → ARCHIVED covers REJECT, GAP and
 * the delivery limit (after the dead-letter write). ACKNOWLEDGED and ARCHIVED are final.
 */
export const RECORD_TRANSITIONS: Readonly<Record<RecordStateValue, readonly RecordStateValue[]>> = {
  AVAILABLE: [ACQUIRED, ARCHIVED],
  ACQUIRED: [AVAILABLE, ACKNOWLEDGED, ARCHIVED],
  ACKNOWLEDGED: [],
  ARCHIVED: [],
};

export function canTransition(from: RecordStateValue, to: RecordStateValue): boolean {
  return RECORD_TRANSITIONS[from].includes(to);
}

/** Moves `record` to `to`; a transition the table does not allow is a broken invariant. */
export function transition(record: { offset: number; state: RecordStateValue }, to: RecordStateValue): void {
  if (!canTransition(record.state, to)) {
    throw new Error(`invariant broken: share record at offset ${record.offset} cannot move from ${record.state} to ${to}`);
  }
  record.state = to;
}

