import type { Serde } from '../../sdk/serde/serde.ts';
import { bytesSerde } from '../../sdk/serde/basic-serdes.ts';
import { nullable } from '../topology/nullable-serde.ts';
import type { TopologyBuilder } from '../topology/topology-builder.ts';

/** The serde a stream's keys or values get when none was given: raw bytes, null allowed. */
export const defaultBytesSerde: Serde<unknown> = nullable(bytesSerde) as Serde<unknown>;

/** What every stream and table of one StreamsBuilder shares: the topology under construction and its name counter. */
export class DslContext {
  private counter = 0;

  constructor(readonly topology: TopologyBuilder) {}

  /** Kafka Streams' generated names: `KSTREAM-FILTER-0000000003`. */
  nextName(prefix: string): string {
    return `${prefix}-${String(this.counter++).padStart(10, '0')}`;
  }

  /** A user's name, or a generated one. */
  name(given: string | undefined, prefix: string): string {
    return given ?? this.nextName(prefix);
  }
}
