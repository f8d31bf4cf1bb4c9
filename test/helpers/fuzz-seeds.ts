import {
  ApiKey,
  decodeRequest,
  encodeRequest,
  encodeRequestHeader,
  isKnownApiKey,
  isSupportedVersion,
  requestHeaderVersion,
  type RequestBodies,
  Writer,
  ZERO_UUID,
} from '../../sdk/protocol/mod.ts';
import { BatchOffset, RecordBatchBuilder } from '../../sdk/record/mod.ts';

export interface AdvertisedApi {
  apiKey: number;
  minVersion: number;
  maxVersion: number;
}

/** Half-open byte range inside a frame. */
export interface ByteRange {
  start: number;
  end: number;
}

/** A valid request frame (no size prefix) that mutators start from. */
export interface SeedFrame {
  apiKey: number;
  apiVersion: number;
  frame: Uint8Array;
  /** For Produce: where each batch's CRC-covered bytes (attributes to end) sit inside `frame`. */
  crcCovered: ByteRange[];
}

export interface SeedTopics {
  /** Existing topic with data that Produce, Fetch and ListOffsets seeds name. */
  target: string;
  targetPartitions: number;
  /** Prefix for names in create/delete seeds, chosen so that no mutation plausibly reaches `target`. */
  scratchPrefix: string;
}

/** A batch of `records` 100-byte values built by the real RecordBatchBuilder. */
export function buildBatch(records: number, fill: number): Uint8Array {
  const builder = new RecordBatchBuilder({});
  const value = new Uint8Array(100).fill(fill & 0xff);
  for (let i = 0; i < records; i++) {
    builder.append({ key: new Uint8Array([i & 0xff]), value, headers: [], timestamp: 1_700_000_000_000 + i });
  }
  return builder.seal();
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= haystack.length; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

type BodyFactory<K extends ApiKey> = (version: number, topics: SeedTopics, variant: number) => RequestBodies[K];
type Factories = { [K in ApiKey]?: BodyFactory<K> };

const factories: Factories = {
  [ApiKey.ApiVersions]: (v) => ({
    clientSoftwareName: v >= 3 ? 'rill-fuzz' : '',
    clientSoftwareVersion: v >= 3 ? '1.0.0' : '',
  }),
  [ApiKey.Metadata]: (v, t, variant) => ({
    topics:
      variant % 3 === 0 && v >= 1
        ? null
        : [{ topicId: ZERO_UUID, name: variant % 3 === 1 ? t.target : `${t.scratchPrefix}meta-${variant}` }],
    // Versions before 4 always auto-create; from 4 the seed asks not to, so mutations must flip it.
    allowAutoTopicCreation: v < 4,
    includeClusterAuthorizedOperations: false,
    includeTopicAuthorizedOperations: false,
  }),
  [ApiKey.Produce]: (v, t, variant) => ({
    transactionalId: null,
    acks: variant % 2 === 0 ? -1 : 1,
    timeoutMs: 30_000,
    topicData: [
      {
        name: t.target,
        partitionData: Array.from({ length: 1 + (variant % 2) }, (_, i) => ({
          index: i % t.targetPartitions,
          records: buildBatch(1 + (variant % 5), variant + i),
        })),
      },
    ],
  }),
  [ApiKey.Fetch]: (v, t, variant) => ({
    clusterId: null,
    replicaId: -1,
    replicaState: { replicaId: -1, replicaEpoch: -1n },
    maxWaitMs: 0,
    minBytes: variant % 2,
    maxBytes: 1024 * 1024,
    isolationLevel: variant % 2,
    sessionId: 0,
    sessionEpoch: -1,
    topics: [
      {
        topic: t.target,
        topicId: ZERO_UUID,
        partitions: [
          {
            partition: variant % t.targetPartitions,
            currentLeaderEpoch: -1,
            fetchOffset: BigInt(variant % 4),
            lastFetchedEpoch: -1,
            logStartOffset: -1n,
            partitionMaxBytes: 64 * 1024,
            replicaDirectoryId: ZERO_UUID,
          },
        ],
      },
    ],
    forgottenTopicsData: [],
    rackId: '',
  }),
  [ApiKey.ListOffsets]: (v, t, variant) => ({
    replicaId: -1,
    isolationLevel: v >= 2 ? variant % 2 : 0,
    topics: [
      {
        name: t.target,
        partitions: [
          {
            partitionIndex: variant % t.targetPartitions,
            currentLeaderEpoch: -1,
            timestamp: BigInt([-1, -2, 1_700_000_000_000][variant % 3]!),
            maxNumOffsets: 1,
          },
        ],
      },
    ],
    timeoutMs: 0,
  }),
  [ApiKey.CreateTopics]: (v, t, variant) => ({
    topics: [
      {
        name: `${t.scratchPrefix}create-${variant}`,
        numPartitions: 1,
        replicationFactor: 1,
        assignments: [],
        configs: variant % 2 === 0 ? [{ name: 'retention.ms', value: '60000' }] : [],
      },
    ],
    timeoutMs: 1000,
    validateOnly: v >= 1 && variant % 2 === 1,
  }),
  [ApiKey.DeleteTopics]: (v, t, variant) => ({
    topics: v >= 6 ? [{ name: `${t.scratchPrefix}delete-${variant}`, topicId: ZERO_UUID }] : [],
    topicNames: v <= 5 ? [`${t.scratchPrefix}delete-${variant}`] : [],
    timeoutMs: 1000,
  }),
  [ApiKey.CreatePartitions]: (v, t, variant) => ({
    topics: [{ name: `${t.scratchPrefix}parts-${variant}`, count: 2, assignments: null }],
    timeoutMs: 1000,
    validateOnly: variant % 2 === 1,
  }),
  [ApiKey.DescribeConfigs]: (v, t, variant) => ({
    resources: [{ resourceType: variant % 2 === 0 ? 2 : 4, resourceName: variant % 2 === 0 ? t.target : '0', configurationKeys: null }],
    includeSynonyms: v >= 1 && variant % 2 === 1,
    includeDocumentation: v >= 3 && variant % 2 === 1,
  }),
};

/**
 * A request of an API without a factory: the shortest body of zero bytes (or 0x01 bytes, which
 * read as empty compact arrays and strings) that our decoder accepts, re-encoded canonically.
 */
function genericFrame(apiKey: ApiKey, version: number): Uint8Array | undefined {
  const header = new Writer(64);
  encodeRequestHeader(header, requestHeaderVersion(apiKey, version), {
    requestApiKey: apiKey,
    requestApiVersion: version,
    correlationId: 1,
    clientId: 'rill-fuzz',
  });
  const head = header.finish();
  for (const fill of [0, 1]) {
    for (let bodyBytes = 0; bodyBytes <= 256; bodyBytes++) {
      const frame = new Uint8Array(head.length + bodyBytes);
      frame.set(head);
      frame.fill(fill, head.length);
      try {
        const decoded = decodeRequest(frame);
        return encodeRequest(apiKey, version, { correlationId: 1, clientId: 'rill-fuzz' }, decoded.body as RequestBodies[ApiKey]);
      } catch {
        // Not yet a whole body; try a longer one.
      }
    }
  }
  return undefined;
}

function crcCoveredRanges(frame: Uint8Array, body: unknown): ByteRange[] {
  const ranges: ByteRange[] = [];
  const produce = body as RequestBodies[typeof ApiKey.Produce];
  for (const topic of produce.topicData) {
    for (const p of topic.partitionData) {
      if (p.records === null) continue;
      const at = indexOfBytes(frame, p.records);
      if (at < 0) throw new Error('invariant: an encoded Produce frame holds its records verbatim');
      ranges.push({ start: at + BatchOffset.attributes, end: at + p.records.length });
    }
  }
  return ranges;
}

/**
 * Valid frames for every advertised API and version, several variants each. APIs without a body
 * factory get a generic minimal body; any that cannot be built are listed in `missing`.
 */
export function buildSeedFrames(advertised: readonly AdvertisedApi[], topics: SeedTopics, variants = 4): { seeds: SeedFrame[]; missing: string[] } {
  const seeds: SeedFrame[] = [];
  const missing: string[] = [];
  let correlationId = 1;
  for (const api of advertised) {
    for (let version = api.minVersion; version <= api.maxVersion; version++) {
      if (!isKnownApiKey(api.apiKey) || !isSupportedVersion(api.apiKey, version)) {
        missing.push(`${api.apiKey}v${version}`);
        continue;
      }
      const apiKey = api.apiKey;
      const factory = factories[apiKey] as BodyFactory<ApiKey> | undefined;
      if (factory === undefined) {
        const frame = genericFrame(apiKey, version);
        if (frame === undefined) missing.push(`${apiKey}v${version}`);
        else seeds.push({ apiKey, apiVersion: version, frame, crcCovered: [] });
        continue;
      }
      for (let variant = 0; variant < variants; variant++) {
        const body = factory(version, topics, variant);
        const frame = encodeRequest(apiKey, version, { correlationId: correlationId++, clientId: 'rill-fuzz' }, body);
        seeds.push({
          apiKey,
          apiVersion: version,
          frame,
          crcCovered: apiKey === ApiKey.Produce ? crcCoveredRanges(frame, body) : [],
        });
      }
    }
  }
  return { seeds, missing };
}
