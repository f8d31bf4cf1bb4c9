export { Admin, type BrokerApiVersion, type NewTopic, type TopicInfo } from './admin.ts';
export type { GroupDescription, GroupListing, GroupMemberDescription, OffsetResetSpec, PartitionLag } from './group-admin.ts';
export type { ScramCredentialDescription, ScramCredentialUpsert } from './scram-admin.ts';
export type { AclEntry, AclFilter } from './acl-admin.ts';
export { AclOperation, AclPermission, PatternType, ResourceType } from '../../protocol/acl-codes.ts';
export { GroupConfigAdmin, type GroupConfigEntry } from './group-config-admin.ts';
