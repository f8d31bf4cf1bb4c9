import { createRequire } from 'node:module';
import { CompressionCodecs, CompressionTypes } from 'kafkajs';
// Registers itself into kafkajs's CompressionCodecs. Its CommonJS build is broken (it calls tslib
// helpers it never defines), so it must be loaded as ESM, which an import does.
import '@sensejs/kafkajs-zstd-support';

/**
 * The kafkajs compression plugins from npm, as kafkajs calls them: kafkajs-snappy (snappyjs),
 * kafkajs-lz4 (the `lz4` package) and @sensejs/kafkajs-zstd-support (zstd-napi, libzstd).
 * The first two are CommonJS without types, hence the small typed surface here.
 */
export interface KafkajsCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

const require = createRequire(import.meta.url);

export const kafkajsSnappy: KafkajsCodec = (require('kafkajs-snappy') as () => KafkajsCodec)();
export const kafkajsLz4: KafkajsCodec = new (require('kafkajs-lz4') as new () => { codec(): KafkajsCodec })().codec();
export const kafkajsZstd: KafkajsCodec = (CompressionCodecs[CompressionTypes.ZSTD] as () => KafkajsCodec)();

/** Makes kafkajs clients in this process write and read snappy, lz4 and zstd batches. */
export function registerKafkajsCodecs(): void {
  CompressionCodecs[CompressionTypes.Snappy] = () => kafkajsSnappy;
  CompressionCodecs[CompressionTypes.LZ4] = () => kafkajsLz4;
  CompressionCodecs[CompressionTypes.ZSTD] = () => kafkajsZstd;
}
