import { ApiKey } from '../protocol/mod.ts';
import type { VersionRange } from './transport.ts';

/**
 * The versions of each API this client speaks. The client fills every field those versions carry,
 * so raising a maximum means reviewing the request builders for the new version's fields.
 */
export const CLIENT_API_VERSIONS: Readonly<Partial<Record<ApiKey, VersionRange>>> = {
  [ApiKey.Produce]: { minVersion: 3, maxVersion: 9 },
  [ApiKey.Fetch]: { minVersion: 4, maxVersion: 12 },
  [ApiKey.ListOffsets]: { minVersion: 1, maxVersion: 7 },
  [ApiKey.Metadata]: { minVersion: 1, maxVersion: 12 },
  [ApiKey.OffsetCommit]: { minVersion: 2, maxVersion: 8 },
  [ApiKey.OffsetFetch]: { minVersion: 1, maxVersion: 7 },
  [ApiKey.FindCoordinator]: { minVersion: 0, maxVersion: 4 },
  [ApiKey.JoinGroup]: { minVersion: 0, maxVersion: 9 },
  [ApiKey.Heartbeat]: { minVersion: 0, maxVersion: 4 },
  [ApiKey.LeaveGroup]: { minVersion: 0, maxVersion: 5 },
  [ApiKey.SyncGroup]: { minVersion: 0, maxVersion: 5 },
  [ApiKey.DescribeGroups]: { minVersion: 0, maxVersion: 5 },
  [ApiKey.ListGroups]: { minVersion: 0, maxVersion: 4 },
  [ApiKey.ApiVersions]: { minVersion: 0, maxVersion: 3 },
  [ApiKey.CreateTopics]: { minVersion: 2, maxVersion: 7 },
  [ApiKey.DeleteTopics]: { minVersion: 1, maxVersion: 5 },
  [ApiKey.InitProducerId]: { minVersion: 0, maxVersion: 4 },
  [ApiKey.AddPartitionsToTxn]: { minVersion: 0, maxVersion: 3 },
  [ApiKey.AddOffsetsToTxn]: { minVersion: 0, maxVersion: 3 },
  [ApiKey.EndTxn]: { minVersion: 0, maxVersion: 3 },
  [ApiKey.TxnOffsetCommit]: { minVersion: 0, maxVersion: 3 },
  [ApiKey.DescribeConfigs]: { minVersion: 1, maxVersion: 4 },
  [ApiKey.CreatePartitions]: { minVersion: 0, maxVersion: 3 },
  [ApiKey.DeleteGroups]: { minVersion: 0, maxVersion: 2 },
  [ApiKey.IncrementalAlterConfigs]: { minVersion: 0, maxVersion: 1 },
  [ApiKey.DeleteRecords]: { minVersion: 0, maxVersion: 2 },
  [ApiKey.OffsetDelete]: { minVersion: 0, maxVersion: 0 },
  [ApiKey.SaslHandshake]: { minVersion: 1, maxVersion: 1 },
  [ApiKey.SaslAuthenticate]: { minVersion: 0, maxVersion: 2 },
  [ApiKey.DescribeUserScramCredentials]: { minVersion: 0, maxVersion: 0 },
  [ApiKey.AlterUserScramCredentials]: { minVersion: 0, maxVersion: 0 },
  // v1 is the first with prefixed patterns.
  [ApiKey.DescribeAcls]: { minVersion: 1, maxVersion: 3 },
  [ApiKey.CreateAcls]: { minVersion: 1, maxVersion: 3 },
  [ApiKey.DeleteAcls]: { minVersion: 1, maxVersion: 3 },
  // KIP-932 as Kafka 4.0 speaks it (v0); v1 (Kafka 4.1) changes the acknowledgement fields.
  [ApiKey.ShareGroupHeartbeat]: { minVersion: 0, maxVersion: 0 },
  [ApiKey.ShareFetch]: { minVersion: 0, maxVersion: 0 },
  [ApiKey.ShareAcknowledge]: { minVersion: 0, maxVersion: 0 },
};
