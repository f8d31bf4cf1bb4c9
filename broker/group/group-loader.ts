import type { ClassicGroup, GroupMember } from './classic-group.ts';
import type { GroupMetadataValue } from './group-metadata-record.ts';
import { restoreGroup } from './group-metadata.ts';
import type { GroupRegistry } from './group-registry.ts';
import type { OffsetsTopic } from './offsets-topic.ts';

/**
 * Rebuilds the groups from `__consumer_offsets`: committed offsets (last write per key wins,
 * tombstones delete) and each group's last metadata record. A group with neither offsets nor
 * metadata left is not created. Returns the restored members, whose sessions start now: a member
 * gets a whole session timeout from the load to show it is still there.
 */
export async function loadGroups(topic: OffsetsTopic, registry: GroupRegistry): Promise<{ group: ClassicGroup; member: GroupMember }[]> {
  const metadata = new Map<string, GroupMetadataValue | null>();
  await topic.replay((write) => {
    if ('groupId' in write) {
      metadata.set(write.groupId, write.group);
      return;
    }
    const group = registry.getOrCreate(write.key.groupId, { force: true });
    group.setOffset(write.key.topic, write.key.partition, write.value);
  });
  const restored: { group: ClassicGroup; member: GroupMember }[] = [];
  for (const [groupId, value] of metadata) {
    if (value === null) continue;
    const group = registry.getOrCreate(groupId, { force: true });
    for (const member of restoreGroup(group, value)) restored.push({ group, member });
  }
  for (const group of [...registry.values()]) {
    if (group.offsetCount() === 0 && (metadata.get(group.groupId) ?? null) === null) registry.remove(group);
  }
  return restored;
}
