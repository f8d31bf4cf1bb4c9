export { Admin, type NewTopic, type TopicInfo } from './admin.ts';
export type { GroupDescription, GroupListing, GroupMemberDescription, OffsetResetSpec, PartitionLag } from './group-admin.ts';
export type { ScramCredentialDescription, ScramCredentialUpsert } from './scram-admin.ts';
