export type { Assignor, MemberSubscription, RebalanceProtocol } from './assignor.ts';
export { rangeAssignor } from './range.ts';
export { roundRobinAssignor } from './round-robin.ts';
export { cooperativeStickyAssignor } from './cooperative-sticky.ts';
