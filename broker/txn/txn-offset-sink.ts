/** An offset a transaction carries for a group, committed only with the transaction. */
export interface PendingOffset {
  topic: string;
  partition: number;
  offset: number;
  leaderEpoch: number;
  metadata: string;
}

/**
 * The seam between the transaction coordinator and the group coordinator's offset store.
 * TxnOffsetCommit offsets stay pending in the transaction (and in its PrepareCommit record in
 * `__transaction_state`); once the commit markers are written they are handed to `commitOffsets`.
 */
export interface TxnOffsetSink {
  /**
   * KIP-447 fencing for TxnOffsetCommit v3+: the error code for a commit from this member and
   * generation of `groupId` (UNKNOWN_MEMBER_ID, ILLEGAL_GENERATION, FENCED_INSTANCE_ID), or 0.
   */
  checkMember(groupId: string, generationId: number, memberId: string, groupInstanceId: string | null): number;
  /**
   * Makes a committed transaction's offsets the group's committed offsets, durably. Recovery may
   * call it again for the same transaction, so it must be idempotent.
   */
  commitOffsets(groupId: string, offsets: readonly PendingOffset[]): Promise<void>;
}
