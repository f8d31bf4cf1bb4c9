import { describe, expect, it } from 'vitest';
import {
  ApiKey,
  decodeRequest,
  decodeResponse,
  decodeProduceResponse,
  encodeProduceRequest,
  encodeProduceResponse,
  encodeRequest,
  encodeResponse,
  ProtocolEncodeError,
  Reader,
  requestHeaderVersion,
  responseHeaderVersion,
  UnsupportedApiError,
  Writer,
} from '../../../../sdk/protocol/mod.ts';
import { KafkaError } from '../../../../sdk/protocol/kafka-error.ts';

/** The Kafka error code `run` throws with. */
function kafkaCodeOf(run: () => unknown): number | null {
  try {
    run();
    return null;
  } catch (error) {
    return error instanceof KafkaError ? error.code : null;
  }
}

describe('request and response headers', () => {
  it('header v2 keeps a classic nullable client id and reads the tag section after a null one', () => {
    // ApiVersions v3: key 18, version 3, correlation 5, client_id null (int16 -1), header tags (0),
    // then the body: compact "rill" (5), compact "1" (2), body tags (0).
    const frame = new Uint8Array([0, 18, 0, 3, 0, 0, 0, 5, 0xff, 0xff, 0, 5, 0x72, 0x69, 0x6c, 0x6c, 2, 0x31, 0]);
    const decoded = decodeRequest(frame);
    expect(decoded.header).toEqual({ requestApiKey: 18, requestApiVersion: 3, correlationId: 5, clientId: null });
    expect(decoded.body).toEqual({ clientSoftwareName: 'rill', clientSoftwareVersion: '1' });
    expect(encodeRequest(ApiKey.ApiVersions, 3, { correlationId: 5, clientId: null }, decoded.apiKey === 18 ? decoded.body : never())).toEqual(frame);
  });

  it('header v2 skips unknown header tags', () => {
    const frame = new Uint8Array([0, 18, 0, 3, 0, 0, 0, 5, 0, 1, 0x63, 1, 4, 2, 9, 9, 5, 0x72, 0x69, 0x6c, 0x6c, 2, 0x31, 0]);
    expect(decodeRequest(frame).header.clientId).toBe('c');
  });

  it('picks header versions as Kafka does', () => {
    expect(requestHeaderVersion(ApiKey.Produce, 8)).toBe(1);
    expect(requestHeaderVersion(ApiKey.Produce, 9)).toBe(2);
    expect(requestHeaderVersion(ApiKey.ControlledShutdown, 0)).toBe(0);
    expect(responseHeaderVersion(ApiKey.Produce, 9)).toBe(1);
    expect(responseHeaderVersion(ApiKey.Fetch, 11)).toBe(0);
    expect(responseHeaderVersion(ApiKey.ApiVersions, 3)).toBe(0);
  });

  it('ApiVersions v3 responses are framed with header v0 (no tag byte after the correlation id)', () => {
    const body = { errorCode: 35, apiKeys: [], throttleTimeMs: 0, supportedFeatures: [], finalizedFeaturesEpoch: -1n, finalizedFeatures: [], zkMigrationReady: false };
    const frame = encodeResponse(ApiKey.ApiVersions, 3, 77, body);
    // correlation id, then error_code 35 directly.
    expect(Array.from(frame.subarray(0, 6))).toEqual([0, 0, 0, 77, 0, 35]);
    expect(decodeResponse(ApiKey.ApiVersions, 3, frame)).toEqual({ correlationId: 77, body });
  });

  it('an unknown api key or version is an UnsupportedApiError carrying the correlation id', () => {
    for (const [key, version] of [[18, 99], [999, 0], [3, -1]] as const) {
      const frame = new Uint8Array([key >> 8, key & 0xff, (version >> 8) & 0xff, version & 0xff, 0, 0, 1, 2]);
      try {
        decodeRequest(frame);
        throw new Error('decoded an unsupported api');
      } catch (error) {
        expect(error).toBeInstanceOf(UnsupportedApiError);
        const e = error as UnsupportedApiError;
        expect([e.apiKey, e.apiVersion, e.correlationId, e.code]).toEqual([key, version, 258, 35]);
      }
    }
  });
});

describe('encoding rules', () => {
  const produce = (transactionalId: string | null) => ({
    transactionalId,
    acks: 1,
    timeoutMs: 5,
    topicData: [],
  });

  it('refuses a non-default value for a non-ignorable field the version lacks', () => {
    expect(() => encodeProduceRequest(new Writer(), 2, produce('txn'))).toThrow(ProtocolEncodeError);
    const w = new Writer();
    encodeProduceRequest(w, 2, produce(null));
    expect(w.finish().length).toBe(10);
  });

  it('drops an ignorable field the version lacks, and decoding fills its default', () => {
    const response = {
      responses: [{ name: 't', partitionResponses: [{ index: 0, errorCode: 0, baseOffset: 5n, logAppendTimeMs: 9n, logStartOffset: 3n, recordErrors: [], errorMessage: null, currentLeader: { leaderId: -1, leaderEpoch: -1 } }] }],
      throttleTimeMs: 100,
      nodeEndpoints: [],
    };
    const w = new Writer();
    encodeProduceResponse(w, 0, response);
    const decoded = decodeProduceResponse(new Reader(w.finish()), 0);
    expect(decoded.throttleTimeMs).toBe(0);
    expect(decoded.responses[0]?.partitionResponses[0]).toMatchObject({ baseOffset: 5n, logAppendTimeMs: -1n, logStartOffset: -1n });
  });

  it('refuses null where the version does not allow it', () => {
    // MetadataRequest topics is nullable from v1 only.
    expect(() => encodeRequest(ApiKey.Metadata, 0, { correlationId: 1, clientId: null }, { topics: null, allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false })).toThrow(ProtocolEncodeError);
    expect(decodeRequest(encodeRequest(ApiKey.Metadata, 1, { correlationId: 1, clientId: null }, { topics: null, allowAutoTopicCreation: true, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false })).body).toMatchObject({ topics: null });
  });

  it('rejects malformed uuids, oversized strings, unknown versions and frames above the bound', () => {
    const metadata = (topicId: string) => ({ topics: [{ topicId, name: null }], allowAutoTopicCreation: false, includeClusterAuthorizedOperations: false, includeTopicAuthorizedOperations: false });
    expect(() => encodeRequest(ApiKey.Metadata, 12, { correlationId: 1, clientId: null }, metadata('orders'))).toThrow(ProtocolEncodeError);
    expect(() => encodeRequest(ApiKey.Metadata, 12, { correlationId: 1, clientId: null }, metadata('7b3c1f0a9d2e4c85a1b60f4e8d2c6a9'))).toThrow(ProtocolEncodeError);
    expect(() => encodeRequest(ApiKey.Metadata, 13, { correlationId: 1, clientId: null }, metadata(''))).toThrow(ProtocolEncodeError);
    expect(() => encodeRequest(ApiKey.Produce, 7, { correlationId: 1, clientId: 'x'.repeat(0x8000) }, produce(null))).toThrow(ProtocolEncodeError);
    const big = { ...produce(null), topicData: [{ name: 't', partitionData: [{ index: 0, records: new Uint8Array(5000) }] }] };
    expect(() => encodeRequest(ApiKey.Produce, 7, { correlationId: 1, clientId: null }, big, { maxBytes: 4096 })).toThrow(ProtocolEncodeError);
    expect(kafkaCodeOf(() => encodeRequest(ApiKey.Produce, 7, { correlationId: 1, clientId: null }, big, { maxBytes: 4096 }))).toBe(35);
  });

  it('round-trips multi-byte UTF-8 and tagged values long enough to need a 2-byte size', () => {
    const host = `bröker-${'ü'.repeat(100)}-😀.example`;
    const body = {
      throttleTimeMs: 0,
      errorCode: 0,
      sessionId: 0,
      responses: [],
      nodeEndpoints: [{ nodeId: 1, host, port: 9092, rack: 'räck' }],
    };
    const frame = encodeResponse(ApiKey.Fetch, 16, 3, body);
    expect(decodeResponse(ApiKey.Fetch, 16, frame).body).toEqual(body);
  });

  it('returns bytes and records as views of the frame (zero copy)', () => {
    const records = new Uint8Array(64).fill(9);
    const frame = encodeRequest(ApiKey.Produce, 7, { correlationId: 1, clientId: null }, {
      ...produce(null),
      topicData: [{ name: 't', partitionData: [{ index: 0, records }] }],
    });
    const decoded = decodeRequest(frame);
    const got = decoded.apiKey === ApiKey.Produce ? decoded.body.topicData[0]?.partitionData[0]?.records : undefined;
    expect(got).toEqual(records);
    expect(got?.buffer).toBe(frame.buffer);
  });
});

function never(): never {
  throw new Error('unreachable');
}
