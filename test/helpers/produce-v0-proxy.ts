import { ApiKey, decodeResponse, encodeResponse } from '../../sdk/protocol/mod.ts';
import { KafkaFrameProxy } from './kafka-frame-proxy.ts';

/**
 * Starts a TCP proxy in front of a broker that rewrites two things: ApiVersions answers say Produce
 * goes down to v0, and Metadata answers give the proxy's port as the broker's, so the client's
 * produce connection comes through the proxy too. Everything else passes through untouched.
 *
 * Why: librdkafka before 2.11.1 enables gzip, snappy and lz4 only if the broker's Produce range
 * includes v0 (a single-version check, confluentinc/librdkafka#5130). Rill, like Kafka 4.0
 * (KIP-896), starts Produce at v3, so Debian's librdkafka 2.0.2 would send those batches
 * uncompressed. Through this proxy it compresses them as it does against Kafka 3.x, still sending
 * Produce v7, so the broker receives librdkafka's real compressed bytes.
 */
export async function startProduceV0Proxy(targetPort: number): Promise<KafkaFrameProxy> {
  let port = 0;
  const proxy = await KafkaFrameProxy.start(
    () => targetPort,
    (request, response) => {
      if (request?.apiKey === ApiKey.ApiVersions) {
        const { body } = decodeResponse(ApiKey.ApiVersions, request.apiVersion, response);
        const apiKeys = body.apiKeys.map((k) => (k.apiKey === ApiKey.Produce ? { ...k, minVersion: 0 } : k));
        return encodeResponse(ApiKey.ApiVersions, request.apiVersion, request.correlationId, { ...body, apiKeys });
      }
      if (request?.apiKey === ApiKey.Metadata) {
        const { body } = decodeResponse(ApiKey.Metadata, request.apiVersion, response);
        const brokers = body.brokers.map((b) => ({ ...b, port }));
        return encodeResponse(ApiKey.Metadata, request.apiVersion, request.correlationId, { ...body, brokers });
      }
      return response;
    },
  );
  port = proxy.port;
  return proxy;
}
