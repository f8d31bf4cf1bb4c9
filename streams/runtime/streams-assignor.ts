import { decode, encode } from '@msgpack/msgpack';
import type { Assignor, MemberAssignment, MemberSubscription } from '../../sdk/client/consumer/assignors/assignor.ts';
import type { TopicPartition } from '../../sdk/client/consumer/consumer-types.ts';
import type { TaskId } from '../topology/processor.ts';

/** A sub-topology as the assignor sees it: its id and the full names of the topics its sources read. */
export interface AssignorSubtopology {
  readonly id: number;
  readonly sourceTopics: readonly string[];
}

const USER_DATA_VERSION = 1;
/** Version 2 of the assignment userData adds the tasks by host; members read versions 1 and 2. */
const ASSIGNMENT_VERSION = 2;

/**
 * Subscription userData (msgpack): [version = 1, instanceId, [[subtopology, partition], ...] tasks
 * the member holds (running or suspended), endpoint ("host:port", `applicationServer`) or null].
 * Assignment userData (msgpack): [version = 2, [[subtopology, partition], ...] the member's tasks,
 * [[endpoint, [[subtopology, partition], ...] active tasks, [[subtopology, partition], ...] standby
 * tasks], ...] every member with an endpoint, by endpoint (Kafka Streams' AssignmentInfo
 * `partitionsByHost`, as tasks: a task's partition is the same of each topic it reads)].
 * Version 1 has no third element: its members know no hosts. This runtime keeps no standby
 * tasks, so the standby lists are empty; the slot is there for when it does.
 */

/** The tasks each instance with an endpoint holds, as the last assignment told every member. */
export interface HostTasks {
  readonly active: readonly TaskId[];
  readonly standby: readonly TaskId[];
}
interface SubscriptionInfo {
  instanceId: string;
  ownedTasks: TaskId[];
  endpoint: string | null;
}

function encodeTasks(tasks: readonly TaskId[]): [number, number][] {
  return tasks.map((t) => [t.subtopology, t.partition]);
}

function decodeTasks(value: unknown): TaskId[] {
  if (!Array.isArray(value)) return [];
  return value.filter((t): t is [number, number] => Array.isArray(t) && Number.isInteger(t[0]) && Number.isInteger(t[1])).map(([subtopology, partition]) => ({ subtopology, partition }));
}

function decodeSubscriptionInfo(bytes: Uint8Array | null): SubscriptionInfo | undefined {
  if (bytes === null) return undefined;
  try {
    const v = decode(bytes);
    if (!Array.isArray(v) || v[0] !== USER_DATA_VERSION || typeof v[1] !== 'string') return undefined;
    return { instanceId: v[1], ownedTasks: decodeTasks(v[2]), endpoint: typeof v[3] === 'string' ? v[3] : null };
  } catch {
    return undefined;
  }
}

/** What a member of a streams application's group says about itself: its instance, its endpoint, and the tasks its assignment gave it. */
export interface StreamsMemberInfo {
  readonly instanceId: string | null;
  readonly endpoint: string | null;
  readonly tasks: readonly TaskId[];
}

/** Decodes the userData of a member's subscription and assignment (as DescribeGroups shows them); unknown bytes give nulls and no tasks. */
export function describeStreamsMember(subscriptionUserData: Uint8Array | null, assignmentUserData: Uint8Array | null): StreamsMemberInfo {
  const info = decodeSubscriptionInfo(subscriptionUserData);
  let tasks: TaskId[] = [];
  if (assignmentUserData !== null) {
    try {
      const v = decode(assignmentUserData);
      if (Array.isArray(v) && (v[0] === USER_DATA_VERSION || v[0] === ASSIGNMENT_VERSION)) tasks = decodeTasks(v[1]);
    } catch {
      tasks = [];
    }
  }
  return { instanceId: info?.instanceId ?? null, endpoint: info?.endpoint ?? null, tasks };
}

const taskKey = (t: TaskId): string => `${t.subtopology}_${t.partition}`;

/**
 * The streams application's partition assignor (the group's protocol `rill-streams`). It assigns
 * tasks rather than partitions: a task (sub-topology, partition) takes that partition of every
 * topic its sub-topology reads, so co-partitioned topics always land on one member. Tasks are
 * balanced by count across members and sticky: a task stays with the member that held it when
 * that keeps the balance, so its state stays where it is.
 *
 * Eager: members give up their partitions before each rebalance; the runtime keeps a given-up
 * task suspended and reports it as owned, so getting it back costs no restore.
 */
export class StreamsAssignor implements Assignor<MemberAssignment> {
  readonly name = 'rill-streams';
  readonly protocol = 'eager' as const;
  private assigned: TaskId[] = [];
  private hosts: ReadonlyMap<string, HostTasks> = new Map();

  constructor(
    private readonly subtopologies: () => readonly AssignorSubtopology[],
    private readonly self: { instanceId: string; endpoint: string | null; ownedTasks: () => readonly TaskId[] },
  ) {}

  /** The tasks the last assignment gave this member. */
  get assignedTasks(): readonly TaskId[] {
    return this.assigned;
  }

  /** Every member's tasks by its endpoint, from the last assignment (empty when none advertises one). */
  get hostTasks(): ReadonlyMap<string, HostTasks> {
    return this.hosts;
  }

  subscriptionUserData(): Uint8Array {
    return encode([USER_DATA_VERSION, this.self.instanceId, encodeTasks(this.self.ownedTasks()), this.self.endpoint]);
  }

  onAssignment(assignment: MemberAssignment): void {
    let tasks: TaskId[] = [];
    const hosts = new Map<string, HostTasks>();
    if (assignment.userData !== null) {
      const v = decode(assignment.userData);
      if (Array.isArray(v) && (v[0] === USER_DATA_VERSION || v[0] === ASSIGNMENT_VERSION)) tasks = decodeTasks(v[1]);
      if (Array.isArray(v) && v[0] === ASSIGNMENT_VERSION && Array.isArray(v[2])) {
        for (const entry of v[2]) {
          if (Array.isArray(entry) && typeof entry[0] === 'string') hosts.set(entry[0], { active: decodeTasks(entry[1]), standby: decodeTasks(entry[2]) });
        }
      }
    }
    this.assigned = tasks;
    this.hosts = hosts;
  }

  assign(members: readonly MemberSubscription[], partitionCounts: ReadonlyMap<string, number>): Map<string, MemberAssignment> {
    const tasks: { id: TaskId; topics: readonly string[] }[] = [];
    for (const s of this.subtopologies()) {
      const count = Math.min(...s.sourceTopics.map((t) => partitionCounts.get(t) ?? 0));
      for (let partition = 0; partition < count; partition++) tasks.push({ id: { subtopology: s.id, partition }, topics: s.sourceTopics });
    }
    const ordered = [...members].sort((a, b) => (a.memberId < b.memberId ? -1 : a.memberId > b.memberId ? 1 : 0));
    const load = new Map<string, TaskId[]>(ordered.map((m) => [m.memberId, []]));
    // Tasks stay with their previous owner up to an even share; the rest go one by one to a least
    // loaded member, the previous owner first when it is among them. Loads end within one of each other.
    const evenShare = Math.floor(tasks.length / Math.max(1, ordered.length));
    const previousOwner = new Map<string, string>();
    for (const m of ordered) for (const t of decodeSubscriptionInfo(m.userData)?.ownedTasks ?? []) if (!previousOwner.has(taskKey(t))) previousOwner.set(taskKey(t), m.memberId);
    const unplaced: TaskId[] = [];
    for (const { id } of tasks) {
      const owner = previousOwner.get(taskKey(id));
      const owned = owner === undefined ? undefined : load.get(owner);
      if (owned !== undefined && owned.length < evenShare) owned.push(id);
      else unplaced.push(id);
    }
    for (const id of unplaced) {
      const least = Math.min(...[...load.values()].map((l) => l.length));
      const owner = previousOwner.get(taskKey(id));
      const target = owner !== undefined && load.get(owner)?.length === least ? owner : ordered.find((m) => load.get(m.memberId)!.length === least)?.memberId;
      if (target !== undefined) load.get(target)!.push(id);
    }
    const topicsOf = new Map(tasks.map((t) => [taskKey(t.id), t.topics]));
    for (const mine of load.values()) mine.sort((a, b) => a.subtopology - b.subtopology || a.partition - b.partition);
    const byEndpoint = new Map<string, TaskId[]>();
    for (const m of ordered) {
      const endpoint = decodeSubscriptionInfo(m.userData)?.endpoint ?? null;
      if (endpoint !== null) byEndpoint.set(endpoint, [...(byEndpoint.get(endpoint) ?? []), ...load.get(m.memberId)!]);
    }
    const hosts = [...byEndpoint].map(([endpoint, active]) => [endpoint, encodeTasks(active), []]);
    const result = new Map<string, MemberAssignment>();
    for (const m of ordered) {
      const mine = load.get(m.memberId)!;
      const partitions: TopicPartition[] = mine.flatMap((t) => topicsOf.get(taskKey(t))!.map((topic) => ({ topic, partition: t.partition })));
      result.set(m.memberId, { partitions, userData: encode([ASSIGNMENT_VERSION, encodeTasks(mine), hosts]) });
    }
    return result;
  }
}
