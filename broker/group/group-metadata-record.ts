import { decode, encode } from '@msgpack/msgpack';
import type { ProtocolMetadata } from './group-types.ts';
import { isInteger } from './offset-record.ts';

/**
 * A group's metadata in `__consumer_offsets` (Kafka's GroupMetadataKey/GroupMetadataValue), so a
 * restarted broker knows its groups' generations and members instead of answering every live
 * member UNKNOWN_MEMBER_ID. Written when a generation completes (with the leader's assignments,
 * before the SyncGroup answers go out), when a static member is replaced, and when the group
 * becomes Empty; a tombstone when it is deleted or expires. msgpack arrays:
 *
 *   key   = [keyType: 2, groupId: string]
 *   value = [valueVersion: 1, protocolType: string | null, generationId: int, protocolName: string | null,
 *            leaderId: string | null, currentStateTimestampMs: int, members: member[]]
 *   member = [memberId: string, groupInstanceId: string | null, clientId: string, clientHost: string,
 *             rebalanceTimeoutMs: int, sessionTimeoutMs: int, protocols: [name: string, metadata: bin][],
 *             assignment: bin]
 *   value = null (a tombstone): the group is gone.
 *
 * Kafka keeps only the chosen protocol's subscription per member; every protocol the member offered
 * is kept here, so a member rejoining with unchanged metadata after a restart is recognised as
 * unchanged and does not start a rebalance. currentStateTimestampMs is when the group entered its
 * state, which offsets retention counts from for an Empty group.
 */
const GROUP_METADATA_VALUE_VERSION = 1;

export interface GroupMetadataMember {
  memberId: string;
  groupInstanceId: string | null;
  clientId: string;
  clientHost: string;
  rebalanceTimeoutMs: number;
  sessionTimeoutMs: number;
  protocols: ProtocolMetadata[];
  assignment: Uint8Array;
}

export interface GroupMetadataValue {
  protocolType: string | null;
  generationId: number;
  protocolName: string | null;
  leaderId: string | null;
  currentStateTimestampMs: number;
  /** Empty for an Empty group. */
  members: GroupMetadataMember[];
}

export function encodeGroupMetadataValue(value: GroupMetadataValue): Uint8Array {
  return encode([
    GROUP_METADATA_VALUE_VERSION,
    value.protocolType,
    value.generationId,
    value.protocolName,
    value.leaderId,
    value.currentStateTimestampMs,
    value.members.map((m) => [
      m.memberId,
      m.groupInstanceId,
      m.clientId,
      m.clientHost,
      m.rebalanceTimeoutMs,
      m.sessionTimeoutMs,
      m.protocols.map((p) => [p.name, p.metadata]),
      m.assignment,
    ]),
  ]);
}

function malformed(): never {
  throw new Error('invariant: malformed group metadata value in __consumer_offsets');
}

function stringOrNull(x: unknown): string | null {
  if (x === null || typeof x === 'string') return x;
  return malformed();
}

function string(x: unknown): string {
  return typeof x === 'string' ? x : malformed();
}

function integer(x: unknown): number {
  return isInteger(x) ? x : malformed();
}

/** Decoded binaries are views of the record's buffer; copies let the replay's fetch buffers go. */
function bytes(x: unknown): Uint8Array {
  return x instanceof Uint8Array ? x.slice() : malformed();
}

function array(x: unknown): unknown[] {
  return Array.isArray(x) ? x : malformed();
}

function decodeMember(x: unknown): GroupMetadataMember {
  const [memberId, groupInstanceId, clientId, clientHost, rebalanceTimeoutMs, sessionTimeoutMs, protocols, assignment] = array(x);
  return {
    memberId: string(memberId),
    groupInstanceId: stringOrNull(groupInstanceId),
    clientId: string(clientId),
    clientHost: string(clientHost),
    rebalanceTimeoutMs: integer(rebalanceTimeoutMs),
    sessionTimeoutMs: integer(sessionTimeoutMs),
    protocols: array(protocols).map((p) => {
      const [name, metadata] = array(p);
      return { name: string(name), metadata: bytes(metadata) };
    }),
    assignment: bytes(assignment),
  };
}

export function decodeGroupMetadataValue(encoded: Uint8Array): GroupMetadataValue {
  const value = decode(encoded);
  if (!Array.isArray(value) || value[0] !== GROUP_METADATA_VALUE_VERSION) {
    throw new Error('invariant: unknown group metadata value version in __consumer_offsets');
  }
  const [, protocolType, generationId, protocolName, leaderId, currentStateTimestampMs, members] = value as unknown[];
  return {
    protocolType: stringOrNull(protocolType),
    generationId: integer(generationId),
    protocolName: stringOrNull(protocolName),
    leaderId: stringOrNull(leaderId),
    currentStateTimestampMs: integer(currentStateTimestampMs),
    members: array(members).map(decodeMember),
  };
}
