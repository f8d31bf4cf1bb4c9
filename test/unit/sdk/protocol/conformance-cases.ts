/**
 * One entry per API checked against kafkajs 2.2.4 and @platformatic/kafka 2.12.1. Each entry gives
 * the arguments each library's request builder takes (a superset valid for every version it
 * implements: builders ignore what their version lacks) and one realistic response in our shape
 * (fields not listed get their defaults; each version carries what it can). Adding an API is one
 * entry; versions come from the libraries' own module lists.
 */
export interface ConformanceCase {
  api: string;
  kafkajsDir?: string;
  kafkajsArgs?: unknown;
  platformaticArgs?: unknown[];
  response: Record<string, unknown>;
  /** Values a library writes that do not appear verbatim in its arguments (it normalises them). */
  normalized?: string[];
  /** Response values a library reads from the wire but leaves out of its result, by version. */
  droppedByPlatformatic?: Record<number, string[]>;
}

const UUID = '7b3c1f0a-9d2e-4c85-a1b6-0f4e8d2c6a91';
const bytes = (...b: number[]) => new Uint8Array(b);

export const CASES: ConformanceCase[] = [
  {
    api: 'ApiVersions',
    kafkajsDir: 'apiVersions',
    kafkajsArgs: {},
    platformaticArgs: ['rill-client', '0.1.0'],
    response: {
      errorCode: 0,
      apiKeys: [
        { apiKey: 0, minVersion: 3, maxVersion: 7 },
        { apiKey: 18, minVersion: 0, maxVersion: 2 },
      ],
      throttleTimeMs: 11,
    },
  },
  {
    api: 'Metadata',
    kafkajsDir: 'metadata',
    kafkajsArgs: { topics: ['orders', 'payments'], allowAutoTopicCreation: true },
    platformaticArgs: [['orders', 'payments'], true, false, false],
    response: {
      throttleTimeMs: 7,
      brokers: [{ nodeId: 1, host: 'broker-1.local', port: 9092, rack: 'rack-a' }],
      clusterId: 'cluster-xyz',
      controllerId: 1,
      topics: [
        {
          errorCode: 0,
          name: 'orders',
          topicId: UUID,
          isInternal: false,
          partitions: [
            { errorCode: 0, partitionIndex: 3, leaderId: 1, leaderEpoch: 5, replicaNodes: [1], isrNodes: [1], offlineReplicas: [] },
          ],
          topicAuthorizedOperations: 248,
        },
      ],
      clusterAuthorizedOperations: 2048,
    },
  },
  {
    api: 'Produce',
    kafkajsDir: 'produce',
    kafkajsArgs: {
      acks: -1,
      timeout: 30000,
      transactionalId: 'txn-7',
      producerId: '4000',
      producerEpoch: 2,
      topicData: [{ topic: 'orders', partitions: [{ partition: 4, firstSequence: 0, messages: [{ key: 'k1', value: 'v1' }] }] }],
    },
    platformaticArgs: [
      -1,
      30000,
      [{ topic: 'orders', partition: 4, key: Buffer.from('k1'), value: Buffer.from('v1'), timestamp: 1700000000000n }],
      { transactionalId: 'txn-7', producerId: 4000n, producerEpoch: 2, sequences: { getWithDefault: () => 7 } },
    ],
    response: {
      responses: [
        {
          name: 'orders',
          partitionResponses: [
            { index: 4, errorCode: 0, baseOffset: 1234n, logAppendTimeMs: 1700000000123n, logStartOffset: 17n, recordErrors: [], errorMessage: null },
          ],
        },
      ],
      throttleTimeMs: 3,
    },
  },
  {
    api: 'Fetch',
    kafkajsDir: 'fetch',
    kafkajsArgs: {
      replicaId: -1,
      maxWaitTime: 500,
      minBytes: 1,
      maxBytes: 1048576,
      isolationLevel: 1,
      sessionId: 0,
      sessionEpoch: -1,
      rackId: 'rack-a',
      topics: [{ topic: 'orders', partitions: [{ partition: 2, currentLeaderEpoch: 6, fetchOffset: '4321', logStartOffset: -1, maxBytes: 65536 }] }],
      forgottenTopics: [],
    },
    platformaticArgs: [
      500,
      1,
      1048576,
      1,
      0,
      -1,
      [{ topic: 'orders', topicId: UUID, partitions: [{ partition: 2, currentLeaderEpoch: 6, fetchOffset: 4321n, lastFetchedEpoch: -1, partitionMaxBytes: 65536 }] }],
      [],
      'rack-a',
    ],
    response: {
      throttleTimeMs: 4,
      errorCode: 0,
      sessionId: 99,
      responses: [
        {
          topic: 'orders',
          topicId: UUID,
          partitions: [
            {
              partitionIndex: 2,
              errorCode: 0,
              highWatermark: 500n,
              lastStableOffset: 480n,
              logStartOffset: 10n,
              abortedTransactions: [{ producerId: 77n, firstOffset: 450n }],
              preferredReadReplica: -1,
              records: new Uint8Array(0),
            },
          ],
        },
      ],
    },
  },
  {
    api: 'ListOffsets',
    kafkajsDir: 'listOffsets',
    kafkajsArgs: { replicaId: -1, isolationLevel: 1, topics: [{ topic: 'orders', partitions: [{ partition: 5, timestamp: '1700000000000', maxNumOffsets: 1 }] }] },
    platformaticArgs: [-1, 1, [{ name: 'orders', partitions: [{ partitionIndex: 5, currentLeaderEpoch: 9, timestamp: 1700000000000n }] }]],
    response: {
      throttleTimeMs: 5,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 5, errorCode: 0, oldStyleOffsets: [100n], timestamp: 1700000000000n, offset: 100n, leaderEpoch: 3 }] }],
    },
  },
  {
    api: 'CreateTopics',
    kafkajsDir: 'createTopics',
    kafkajsArgs: {
      topics: [{ topic: 'orders', numPartitions: 3, replicationFactor: 1, replicaAssignment: [], configEntries: [{ name: 'retention.ms', value: '86400000' }] }],
      timeout: 7000,
      validateOnly: true,
    },
    platformaticArgs: [
      [{ name: 'orders', numPartitions: 3, replicationFactor: 1, assignments: [], configs: [{ name: 'retention.ms', value: '86400000' }] }],
      7000,
      true,
    ],
    response: {
      throttleTimeMs: 1,
      topics: [{ name: 'orders', topicId: UUID, errorCode: 0, errorMessage: null, numPartitions: 3, replicationFactor: 1, configs: [] }],
    },
  },
  {
    api: 'DeleteTopics',
    kafkajsDir: 'deleteTopics',
    kafkajsArgs: { topics: ['orders', 'payments'], timeout: 6000 },
    platformaticArgs: [[{ name: 'orders', topicId: UUID }], 6000],
    response: { throttleTimeMs: 1, responses: [{ name: 'orders', topicId: UUID, errorCode: 0, errorMessage: null }] },
  },
  {
    api: 'CreatePartitions',
    kafkajsDir: 'createPartitions',
    kafkajsArgs: { topicPartitions: [{ topic: 'orders', count: 6, assignments: [[1], [1]] }], timeout: 8000, validateOnly: true },
    platformaticArgs: [[{ name: 'orders', count: 6, assignments: [{ brokerIds: [1] }, { brokerIds: [1] }] }], 8000, true],
    response: { throttleTimeMs: 2, results: [{ name: 'orders', errorCode: 0, errorMessage: null }] },
  },
  {
    api: 'DescribeConfigs',
    kafkajsDir: 'describeConfigs',
    kafkajsArgs: { resources: [{ type: 2, name: 'orders', configNames: ['retention.ms'] }], includeSynonyms: true },
    platformaticArgs: [[{ resourceType: 2, resourceName: 'orders', configurationKeys: ['retention.ms'] }], true, true],
    response: {
      throttleTimeMs: 3,
      results: [
        {
          errorCode: 0,
          errorMessage: null,
          resourceType: 2,
          resourceName: 'orders',
          configs: [{ name: 'retention.ms', value: '604800000', readOnly: false, configSource: 5, isSensitive: false, synonyms: [], configType: 5 }],
        },
      ],
    },
    // describe-configs-v0.js reads IsDefault and discards it.
    droppedByPlatformatic: { 0: ['false'] },
  },
  {
    api: 'FindCoordinator',
    kafkajsDir: 'findCoordinator',
    kafkajsArgs: { groupId: 'group-1', coordinatorKey: 'group-1', coordinatorType: 0 },
    platformaticArgs: [0, ['group-1']],
    response: {
      throttleTimeMs: 6,
      errorCode: 0,
      errorMessage: null,
      nodeId: 1,
      host: 'broker-1.local',
      port: 9092,
      coordinators: [{ key: 'group-1', nodeId: 1, host: 'broker-1.local', port: 9092, errorCode: 0, errorMessage: null }],
    },
  },
  {
    api: 'JoinGroup',
    kafkajsDir: 'joinGroup',
    kafkajsArgs: {
      groupId: 'group-1',
      sessionTimeout: 30000,
      rebalanceTimeout: 60000,
      memberId: 'member-1',
      groupInstanceId: 'instance-1',
      protocolType: 'consumer',
      groupProtocols: [{ name: 'roundrobin', metadata: Buffer.from([0, 1, 2, 3]) }],
    },
    platformaticArgs: ['group-1', 30000, 60000, 'member-1', 'instance-1', 'consumer', [{ name: 'roundrobin', metadata: Buffer.from([0, 1, 2, 3]) }], 'because'],
    response: {
      throttleTimeMs: 9,
      errorCode: 0,
      generationId: 3,
      protocolType: 'consumer',
      protocolName: 'roundrobin',
      leader: 'member-1',
      memberId: 'member-2',
      members: [{ memberId: 'member-1', groupInstanceId: 'instance-1', metadata: bytes(0, 1, 2, 3) }],
    },
  },
  {
    api: 'SyncGroup',
    kafkajsDir: 'syncGroup',
    kafkajsArgs: {
      groupId: 'group-1',
      generationId: 3,
      memberId: 'member-1',
      groupInstanceId: 'instance-1',
      groupAssignment: [{ memberId: 'member-1', memberAssignment: Buffer.from([0, 1, 0, 0]) }],
    },
    platformaticArgs: ['group-1', 3, 'member-1', 'instance-1', 'consumer', 'roundrobin', [{ memberId: 'member-1', assignment: Buffer.from([0, 1, 0, 0]) }]],
    response: { throttleTimeMs: 2, errorCode: 0, protocolType: 'consumer', protocolName: 'roundrobin', assignment: bytes(0, 1, 0, 0, 9) },
  },
  {
    api: 'Heartbeat',
    kafkajsDir: 'heartbeat',
    kafkajsArgs: { groupId: 'group-1', groupGenerationId: 3, memberId: 'member-1', groupInstanceId: 'instance-1' },
    platformaticArgs: ['group-1', 3, 'member-1', 'instance-1'],
    response: { throttleTimeMs: 8, errorCode: 0 },
  },
  {
    api: 'LeaveGroup',
    kafkajsDir: 'leaveGroup',
    kafkajsArgs: { groupId: 'group-1', memberId: 'member-1', members: [{ memberId: 'member-1', groupInstanceId: 'instance-1' }] },
    platformaticArgs: ['group-1', [{ memberId: 'member-1', groupInstanceId: 'instance-1', reason: 'shutdown' }]],
    response: { throttleTimeMs: 8, errorCode: 0, members: [{ memberId: 'member-1', groupInstanceId: 'instance-1', errorCode: 0 }] },
  },
  {
    api: 'OffsetCommit',
    kafkajsDir: 'offsetCommit',
    kafkajsArgs: {
      groupId: 'group-1',
      groupGenerationId: 3,
      memberId: 'member-1',
      retentionTime: '-1',
      topics: [{ topic: 'orders', partitions: [{ partition: 1, offset: '4242', timestamp: '-1', metadata: 'meta-1' }] }],
    },
    platformaticArgs: [
      'group-1',
      3,
      'member-1',
      'instance-1',
      [{ name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 4242n, committedLeaderEpoch: 5, committedMetadata: 'meta-1' }] }],
    ],
    response: { throttleTimeMs: 2, topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, errorCode: 0 }] }] },
  },
  {
    api: 'OffsetFetch',
    kafkajsDir: 'offsetFetch',
    kafkajsArgs: { groupId: 'group-1', topics: [{ topic: 'orders', partitions: [{ partition: 1 }, { partition: 2 }] }] },
    platformaticArgs: [[{ groupId: 'group-1', memberId: 'member-1', memberEpoch: 4, topics: [{ name: 'orders', partitionIndexes: [1, 2] }] }], true],
    response: {
      throttleTimeMs: 2,
      topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 42n, committedLeaderEpoch: 6, metadata: 'meta-1', errorCode: 0 }] }],
      errorCode: 0,
      groups: [
        {
          groupId: 'group-1',
          topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 42n, committedLeaderEpoch: 6, metadata: 'meta-1', errorCode: 0 }] }],
          errorCode: 0,
        },
      ],
    },
  },
  {
    api: 'DescribeGroups',
    kafkajsDir: 'describeGroups',
    kafkajsArgs: { groupIds: ['group-1', 'group-2'] },
    platformaticArgs: [['group-1', 'group-2'], true],
    response: {
      throttleTimeMs: 1,
      groups: [
        {
          errorCode: 0,
          groupId: 'group-1',
          groupState: 'Stable',
          protocolType: 'consumer',
          protocolData: 'roundrobin',
          members: [
            { memberId: 'member-1', groupInstanceId: 'instance-1', clientId: 'client-a', clientHost: '/127.0.0.1', memberMetadata: bytes(0, 1), memberAssignment: bytes(0, 2) },
          ],
          authorizedOperations: 248,
        },
      ],
    },
  },
  {
    api: 'ListGroups',
    kafkajsDir: 'listGroups',
    kafkajsArgs: {},
    platformaticArgs: [['STABLE'], ['classic']],
    normalized: ['Stable'],
    response: { throttleTimeMs: 1, errorCode: 0, groups: [{ groupId: 'group-1', protocolType: 'consumer', groupState: 'Stable', groupType: 'classic' }] },
  },
  {
    api: 'DeleteGroups',
    kafkajsDir: 'deleteGroups',
    kafkajsArgs: ['group-1', 'group-2'],
    platformaticArgs: [['group-1', 'group-2']],
    response: { throttleTimeMs: 1, results: [{ groupId: 'group-1', errorCode: 0 }] },
  },
  {
    api: 'InitProducerId',
    kafkajsDir: 'initProducerId',
    kafkajsArgs: { transactionalId: 'txn-7', transactionTimeout: 60000 },
    platformaticArgs: ['txn-7', 60000, 4000n, 2],
    response: { throttleTimeMs: 0, errorCode: 0, producerId: 4000n, producerEpoch: 2 },
  },
  {
    api: 'AddPartitionsToTxn',
    kafkajsDir: 'addPartitionsToTxn',
    kafkajsArgs: { transactionalId: 'txn-7', producerId: '4000', producerEpoch: 2, topics: [{ topic: 'orders', partitions: [1, 2] }] },
    platformaticArgs: [[{ transactionalId: 'txn-7', producerId: 4000n, producerEpoch: 2, verifyOnly: true, topics: [{ name: 'orders', partitions: [1, 2] }] }]],
    response: {
      throttleTimeMs: 0,
      errorCode: 0,
      resultsByTransaction: [
        { transactionalId: 'txn-7', topicResults: [{ name: 'orders', resultsByPartition: [{ partitionIndex: 1, partitionErrorCode: 0 }] }] },
      ],
      resultsByTopicV3AndBelow: [{ name: 'orders', resultsByPartition: [{ partitionIndex: 1, partitionErrorCode: 0 }] }],
    },
  },
  {
    api: 'AddOffsetsToTxn',
    kafkajsDir: 'addOffsetsToTxn',
    kafkajsArgs: { transactionalId: 'txn-7', producerId: '4000', producerEpoch: 2, groupId: 'group-1' },
    platformaticArgs: ['txn-7', 4000n, 2, 'group-1'],
    response: { throttleTimeMs: 5, errorCode: 0 },
  },
  {
    api: 'EndTxn',
    kafkajsDir: 'endTxn',
    kafkajsArgs: { transactionalId: 'txn-7', producerId: '4000', producerEpoch: 2, transactionResult: true },
    platformaticArgs: ['txn-7', 4000n, 2, true],
    response: { throttleTimeMs: 5, errorCode: 0 },
  },
  {
    api: 'TxnOffsetCommit',
    kafkajsDir: 'txnOffsetCommit',
    kafkajsArgs: {
      transactionalId: 'txn-7',
      groupId: 'group-1',
      producerId: '4000',
      producerEpoch: 2,
      topics: [{ topic: 'orders', partitions: [{ partition: 1, offset: '4242', metadata: 'meta-1' }] }],
    },
    platformaticArgs: [
      'txn-7',
      'group-1',
      4000n,
      2,
      3,
      'member-1',
      'instance-1',
      [{ name: 'orders', partitions: [{ partitionIndex: 1, committedOffset: 4242n, committedLeaderEpoch: 5, committedMetadata: 'meta-1' }] }],
    ],
    response: { throttleTimeMs: 5, topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, errorCode: 0 }] }] },
  },
  {
    api: 'OffsetDelete',
    platformaticArgs: ['group-1', [{ name: 'orders', partitions: [{ partitionIndex: 1 }] }]],
    response: { errorCode: 0, throttleTimeMs: 5, topics: [{ name: 'orders', partitions: [{ partitionIndex: 1, errorCode: 0 }] }] },
  },
];
