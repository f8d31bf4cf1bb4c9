import { ProtocolDecodeError } from '../../protocol/decode-error.ts';
import { decodeConsumerProtocolAssignment, encodeConsumerProtocolAssignment } from '../../protocol/messages/consumer-protocol-assignment.ts';
import { decodeConsumerProtocolSubscription, encodeConsumerProtocolSubscription } from '../../protocol/messages/consumer-protocol-subscription.ts';
import { Reader } from '../../protocol/reader.ts';
import { Writer } from '../../protocol/writer.ts';
import { KafkaError } from '../../protocol/kafka-error.ts';
import type { TopicPartition } from './consumer-types.ts';

/**
 * Versions we write. Subscription v2 carries `ownedPartitions` (v1) and `generationId` (v2), which the
 * cooperative protocol needs; the assignment has nothing we use past v0. Both are read at
 * min(their version, the newest the codec knows), since newer versions only append fields.
 */
const SUBSCRIPTION_VERSION = 2;
const MAX_SUBSCRIPTION_VERSION = 3;
const ASSIGNMENT_VERSION = 0;
const MAX_ASSIGNMENT_VERSION = 3;

export interface Subscription {
  topics: string[];
  ownedPartitions: TopicPartition[];
  generationId: number;
  /** The assignor's own bytes; null (the default) when it sends none. */
  userData?: Uint8Array | null;
}

function grouped(partitions: readonly TopicPartition[]): { topic: string; partitions: number[] }[] {
  const byTopic = new Map<string, number[]>();
  for (const tp of partitions) {
    const list = byTopic.get(tp.topic) ?? [];
    list.push(tp.partition);
    byTopic.set(tp.topic, list);
  }
  return [...byTopic].map(([topic, list]) => ({ topic, partitions: list.sort((a, b) => a - b) }));
}

/** JoinGroup protocol metadata: int16 version, then ConsumerProtocolSubscription. */
export function encodeSubscription(s: Subscription): Uint8Array {
  const w = new Writer();
  w.writeInt16(SUBSCRIPTION_VERSION);
  encodeConsumerProtocolSubscription(w, SUBSCRIPTION_VERSION, {
    topics: s.topics,
    userData: s.userData ?? null,
    ownedPartitions: grouped(s.ownedPartitions),
    generationId: s.generationId,
    rackId: null,
  });
  return w.finish().slice();
}

export function decodeSubscription(bytes: Uint8Array): Required<Subscription> {
  return decodeVersioned(bytes, MAX_SUBSCRIPTION_VERSION, 'subscription', (r, v) => {
    const s = decodeConsumerProtocolSubscription(r, v);
    return {
      topics: s.topics,
      ownedPartitions: s.ownedPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))),
      generationId: s.generationId,
      userData: s.userData,
    };
  });
}

/** SyncGroup member assignment: int16 version, then ConsumerProtocolAssignment. */
export function encodeAssignment(partitions: readonly TopicPartition[], userData: Uint8Array | null = null): Uint8Array {
  const w = new Writer();
  w.writeInt16(ASSIGNMENT_VERSION);
  encodeConsumerProtocolAssignment(w, ASSIGNMENT_VERSION, { assignedPartitions: grouped(partitions), userData });
  return w.finish().slice();
}

/** The partitions and assignor bytes in a SyncGroup assignment; empty bytes (a member the leader left out) is no partitions. */
export function decodeMemberAssignment(bytes: Uint8Array): { partitions: TopicPartition[]; userData: Uint8Array | null } {
  if (bytes.length === 0) return { partitions: [], userData: null };
  return decodeVersioned(bytes, MAX_ASSIGNMENT_VERSION, 'assignment', (r, v) => {
    const a = decodeConsumerProtocolAssignment(r, v);
    return { partitions: a.assignedPartitions.flatMap((t) => t.partitions.map((partition) => ({ topic: t.topic, partition }))), userData: a.userData };
  });
}

/** The partitions in a SyncGroup assignment. */
export function decodeAssignment(bytes: Uint8Array): TopicPartition[] {
  return decodeMemberAssignment(bytes).partitions;
}

function decodeVersioned<T>(bytes: Uint8Array, maxVersion: number, what: string, decode: (r: Reader, v: number) => T): T {
  try {
    const r = new Reader(bytes);
    const version = r.readInt16();
    if (version < 0) throw new KafkaError('INCONSISTENT_GROUP_PROTOCOL', `consumer protocol ${what} has version ${version}`);
    return decode(r, Math.min(version, maxVersion));
  } catch (error) {
    if (error instanceof ProtocolDecodeError) throw new KafkaError('INCONSISTENT_GROUP_PROTOCOL', `unreadable consumer protocol ${what}: ${error.message}`);
    throw error;
  }
}
