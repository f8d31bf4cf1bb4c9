/** The classic group protocol's states, named as DescribeGroups and ListGroups report them. */
export const GroupState = {
  Empty: 'Empty',
  PreparingRebalance: 'PreparingRebalance',
  CompletingRebalance: 'CompletingRebalance',
  Stable: 'Stable',
  Dead: 'Dead',
} as const;

export type GroupStateValue = (typeof GroupState)[keyof typeof GroupState];

export const GROUP_STATES: readonly GroupStateValue[] = Object.values(GroupState);

/**
 * Allowed transitions, as in Kafka's GroupMetadata: a group rebalances (PreparingRebalance) from
 * any live state, the join barrier leads to CompletingRebalance (members left) or Empty (none),
 * the leader's SyncGroup makes it Stable, and Dead (deleted, or expired with no offsets) is final.
 */
export const GROUP_TRANSITIONS: Readonly<Record<GroupStateValue, readonly GroupStateValue[]>> = {
  Empty: [GroupState.PreparingRebalance, GroupState.Dead],
  PreparingRebalance: [GroupState.CompletingRebalance, GroupState.Empty, GroupState.Dead],
  CompletingRebalance: [GroupState.PreparingRebalance, GroupState.Stable, GroupState.Dead],
  Stable: [GroupState.PreparingRebalance, GroupState.Dead],
  Dead: [],
};

export function canTransition(from: GroupStateValue, to: GroupStateValue): boolean {
  return GROUP_TRANSITIONS[from].includes(to);
}

/** The state after `from → to`; a transition outside the table is a coordinator bug. */
export function transition(groupId: string, from: GroupStateValue, to: GroupStateValue): GroupStateValue {
  if (!canTransition(from, to)) {
    throw new Error(`invariant: group "${groupId}" cannot go from ${from} to ${to}`);
  }
  return to;
}

/** Kafka's ListGroups states filter matches state names case-insensitively. */
export function parseGroupState(name: string): GroupStateValue | undefined {
  return GROUP_STATES.find((s) => s.toLowerCase() === name.toLowerCase());
}
