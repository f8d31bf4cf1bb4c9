import { KafkaError } from '../../sdk/protocol/kafka-error.ts';
import { ClassicGroup } from './classic-group.ts';
import { GroupState } from './group-state.ts';

/** The live groups by id, bounded by `maxGroups`; a removed group is Dead and forgotten. */
export class GroupRegistry {
  private readonly groups = new Map<string, ClassicGroup>();

  constructor(
    private readonly maxGroups: number,
    private readonly nowMs: () => number,
  ) {}

  get(groupId: string): ClassicGroup | undefined {
    return this.groups.get(groupId);
  }

  values(): IterableIterator<ClassicGroup> {
    return this.groups.values();
  }

  get size(): number {
    return this.groups.size;
  }

  /**
   * The group, created Empty if absent. `force` skips the bound, for rebuilding groups that
   * already hold offsets in `__consumer_offsets`.
   */
  getOrCreate(groupId: string, options: { force?: boolean } = {}): ClassicGroup {
    const existing = this.groups.get(groupId);
    if (existing !== undefined) return existing;
    if (options.force !== true && this.groups.size >= this.maxGroups) {
      throw new KafkaError('POLICY_VIOLATION', `the broker already holds its limit of ${this.maxGroups} groups`);
    }
    const group = new ClassicGroup(groupId, this.nowMs());
    this.groups.set(groupId, group);
    return group;
  }

  remove(group: ClassicGroup): void {
    if (this.groups.get(group.groupId) !== group) throw new Error(`invariant: group "${group.groupId}" removed twice`);
    group.transitionTo(GroupState.Dead, this.nowMs());
    this.groups.delete(group.groupId);
  }

  /** A removed group's timers and parked requests may still refer to it; they must do nothing. */
  isLive(group: ClassicGroup): boolean {
    return this.groups.get(group.groupId) === group;
  }
}
