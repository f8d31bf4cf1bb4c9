import type { AnyApiHandler } from '../api-handler.ts';
import { aclApiHandlers } from './acl-apis.ts';
import { adminApiHandlers } from './admin-handlers.ts';
import { describeClusterHandler } from './describe-cluster.ts';
import { fetchHandler } from './fetch.ts';
import { groupApiHandlers } from './group-handlers.ts';
import { listOffsetsHandler } from './list-offsets.ts';
import { metadataHandler } from './metadata.ts';
import { produceHandler } from './produce.ts';
import { shareApiHandlers } from './share-handlers.ts';
import { txnApiHandlers } from './txn-handlers.ts';
import { alterUserScramCredentialsHandler, describeUserScramCredentialsHandler } from './user-scram-credentials.ts';

/** Every API the broker serves besides ApiVersions, which the dispatcher derives from this list. */
export const allApiHandlers: readonly AnyApiHandler[] = [
  produceHandler,
  fetchHandler,
  listOffsetsHandler,
  metadataHandler,
  ...adminApiHandlers,
  ...groupApiHandlers,
  ...txnApiHandlers,
  alterUserScramCredentialsHandler,
  describeUserScramCredentialsHandler,
  ...aclApiHandlers,
  describeClusterHandler,
  ...shareApiHandlers,
];
