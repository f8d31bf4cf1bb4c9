import { decodeMemberAssignment } from '../../sdk/client/consumer/consumer-protocol.ts';
import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import type { ClassicGroup, GroupMember } from './classic-group.ts';
import { subscribedTopics } from './consumer-subscription.ts';
import { GroupState } from './group-state.ts';
import type { AssignedTopic } from './group-types.ts';

/** The only protocol type whose metadata and assignments the broker can read (Kafka's consumer protocol). */
const CONSUMER_PROTOCOL_TYPE = 'consumer';

export interface MemberAssignment {
  subscribedTopics: string[] | null;
  assignment: AssignedTopic[] | null;
  assignmentError: string | null;
}

function byTopic(partitions: readonly { topic: string; partition: number }[]): AssignedTopic[] {
  const topics = new Map<string, number[]>();
  for (const { topic, partition } of partitions) {
    const list = topics.get(topic);
    if (list === undefined) topics.set(topic, [partition]);
    else list.push(partition);
  }
  return [...topics.keys()].sort().map((topic) => ({ topic, partitions: topics.get(topic)!.sort((a, b) => a - b) }));
}

/**
 * What a member subscribes to and is assigned, decoded from the bytes the coordinator keeps opaque:
 * its JoinGroup metadata for the chosen protocol (ConsumerProtocolSubscription) and the leader's
 * SyncGroup assignment (ConsumerProtocolAssignment). Only `consumer` groups use those formats, and
 * assignments are settled only in a Stable group (DescribeGroups shows none otherwise either);
 * every other case is a null assignment with the reason, never an exception.
 */
export function memberAssignment(group: ClassicGroup, member: GroupMember): MemberAssignment {
  if (group.protocolType !== CONSUMER_PROTOCOL_TYPE) {
    return { subscribedTopics: null, assignment: null, assignmentError: `protocol type "${group.protocolType ?? ''}" is not "consumer": its assignments are opaque` };
  }
  const subscribed = group.protocolName === null ? undefined : subscribedTopics(group.metadataFor(member, group.protocolName));
  const topics = subscribed === undefined ? null : [...subscribed].sort();
  if (!group.is(GroupState.Stable)) {
    return { subscribedTopics: topics, assignment: null, assignmentError: `the group is ${group.state}: assignments are settled once it is Stable` };
  }
  try {
    return { subscribedTopics: topics, assignment: byTopic(decodeMemberAssignment(member.assignment).partitions), assignmentError: null };
  } catch (error) {
    if (error instanceof KafkaError) return { subscribedTopics: topics, assignment: null, assignmentError: error.message };
    throw error;
  }
}
