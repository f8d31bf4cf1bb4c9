import { ErrorCode } from '../../sdk/protocol/error-codes.ts';

/** A partition of a share session, by topic id as ShareFetch names it. */
export interface SessionPartition {
  topicId: string;
  partition: number;
}

export interface ShareSession {
  readonly groupId: string;
  readonly memberId: string;
  /** The epoch the next request must carry. */
  nextEpoch: number;
  /** Keyed `topicId:partition`. */
  readonly partitions: Map<string, SessionPartition>;
}

/** KIP-932's share session epochs: 0 opens a session, -1 closes it, otherwise the expected next epoch. */
export const ShareSessionEpoch = { open: 0, close: -1 } as const;

export type SessionLookup = { errorCode: number; message: string } | { errorCode: 0; session: ShareSession; closing: boolean };

export function sessionPartitionKey(topicId: string, partition: number): string {
  return `${topicId}:${partition}`;
}

/** 1 after 2^31-1, never 0 or -1, as Kafka's ShareRequestMetadata.nextEpoch. */
function following(epoch: number): number {
  return epoch === 0x7fffffff ? 1 : epoch + 1;
}

/**
 * The broker's share sessions (KIP-932), one per (group, member), bounded: past `maxSessions` a
 * new session is refused. A ShareFetch opens or continues one; ShareAcknowledge only continues or
 * closes one.
 */
export class ShareSessions {
  private readonly sessions = new Map<string, ShareSession>();

  constructor(private readonly maxSessions: number) {}

  /** Resolves the session a request with `epoch` names, opening one for epoch 0 when `mayOpen`. */
  lookup(groupId: string, memberId: string, epoch: number, mayOpen: boolean): SessionLookup {
    const key = `${groupId}\u0000${memberId}`;
    const existing = this.sessions.get(key);
    if (epoch === ShareSessionEpoch.open) {
      if (!mayOpen) return { errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH, message: 'a ShareAcknowledge cannot open a share session (epoch 0)' };
      if (existing === undefined && this.sessions.size >= this.maxSessions) {
        return { errorCode: ErrorCode.SHARE_SESSION_NOT_FOUND, message: `the broker holds ${this.maxSessions} share sessions, its limit` };
      }
      const session: ShareSession = { groupId, memberId, nextEpoch: 1, partitions: new Map() };
      this.sessions.set(key, session);
      return { errorCode: 0, session, closing: false };
    }
    if (existing === undefined) return { errorCode: ErrorCode.SHARE_SESSION_NOT_FOUND, message: `member "${memberId}" of share group "${groupId}" has no share session` };
    if (epoch === ShareSessionEpoch.close) {
      this.sessions.delete(key);
      return { errorCode: 0, session: existing, closing: true };
    }
    if (epoch !== existing.nextEpoch) {
      return { errorCode: ErrorCode.INVALID_SHARE_SESSION_EPOCH, message: `share session epoch ${epoch} is not the expected ${existing.nextEpoch}` };
    }
    existing.nextEpoch = following(epoch);
    return { errorCode: 0, session: existing, closing: false };
  }

  /** Drops the member's session (it left the group); true when there was one. */
  remove(groupId: string, memberId: string): boolean {
    return this.sessions.delete(`${groupId}\u0000${memberId}`);
  }
}
