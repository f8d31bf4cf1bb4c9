import { decodeConsumerProtocolSubscription } from '../../sdk/protocol/messages/consumer-protocol-subscription.ts';
import { ProtocolDecodeError } from '../../sdk/protocol/decode-error.ts';
import { Reader } from '../../sdk/protocol/reader.ts';

/** The newest ConsumerProtocolSubscription version the codec knows; newer ones only append fields. */
const MAX_SUBSCRIPTION_VERSION = 3;

/**
 * The topics a `consumer`-type member subscribes to, from its JoinGroup protocol metadata
 * (int16 version, then the ConsumerProtocolSubscription body). Undefined when the bytes are not a
 * readable subscription: the coordinator treats the metadata as opaque and must not fail on it.
 */
export function subscribedTopics(metadata: Uint8Array): string[] | undefined {
  try {
    const r = new Reader(metadata);
    const version = r.readInt16();
    if (version < 0) return undefined;
    return decodeConsumerProtocolSubscription(r, Math.min(version, MAX_SUBSCRIPTION_VERSION)).topics;
  } catch (error) {
    if (error instanceof ProtocolDecodeError) return undefined;
    throw error;
  }
}
