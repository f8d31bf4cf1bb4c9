import type { GroupMember } from './api.ts';

/** Member ids are the client id, a dash and a UUID; these many characters of the UUID tell members apart. */
const SHORT_ID_CHARS = 8;

/** A member as a reader tells it apart: its client id and the start of the rest of its member id. */
export function memberLabel(member: GroupMember): string {
  const prefix = `${member.clientId}-`;
  const rest = member.clientId !== '' && member.memberId.startsWith(prefix) ? member.memberId.slice(prefix.length) : member.memberId;
  const short = rest.slice(0, SHORT_ID_CHARS);
  return member.clientId === '' ? short : `${member.clientId} (${short})`;
}

/** A member's assigned partitions as text, e.g. `orders: 0, 1, 2; payments: 3`; undefined when the broker could not show them. */
export function assignmentText(member: GroupMember): string | undefined {
  if (member.assignment === null) return undefined;
  if (member.assignment.length === 0) return 'none';
  return member.assignment.map((t) => `${t.topic}: ${t.partitions.join(', ')}`).join('; ');
}

/** `topic-partition` → the member assigned it. */
export function partitionOwners(members: readonly GroupMember[]): Map<string, GroupMember> {
  const owners = new Map<string, GroupMember>();
  for (const member of members) {
    for (const t of member.assignment ?? []) for (const partition of t.partitions) owners.set(`${t.topic}-${partition}`, member);
  }
  return owners;
}
