import type { AnyApiHandler } from '../api-handler.ts';
import { shareAcknowledgeHandler } from './share-acknowledge.ts';
import { shareFetchHandler } from './share-fetch.ts';
import { shareGroupDescribeHandler } from './share-group-describe.ts';
import { shareGroupHeartbeatHandler } from './share-group-heartbeat.ts';

/** Share groups' APIs (KIP-932). */
export const shareApiHandlers: readonly AnyApiHandler[] = [shareGroupHeartbeatHandler, shareGroupDescribeHandler, shareFetchHandler, shareAcknowledgeHandler];
