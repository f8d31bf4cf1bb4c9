export { crc32c } from './crc32c.ts';
export {
  BATCH_HEADER_BYTES,
  BATCH_LOG_OVERHEAD_BYTES,
  type BatchHeader,
  BatchAttribute,
  BatchOffset,
  CompressionType,
  type CompressionTypeValue,
  CURRENT_MAGIC,
  readBatchHeader,
  readInt64,
  writeInt64,
} from './batch-header.ts';
export {
  type ByteCursor,
  byteCursor,
  readUnsignedVarint,
  readVarint,
  readVarlong,
  sizeOfUnsignedVarint,
  sizeOfVarint,
  sizeOfVarlong,
  writeUnsignedVarint,
  writeVarint,
  writeVarlong,
} from './varint.ts';
export { type Record, type RecordHeader, type RecordInput, TimestampType, type TimestampTypeValue } from './record.ts';
export {
  COMPRESSION_NAMES,
  type CompressionName,
  compress,
  compressionName,
  DEFAULT_MAX_DECOMPRESSED_BYTES,
  decompress,
  supportedCompressionType,
} from './compression.ts';
export { CompressionError } from './compression-error.ts';
export { DEFAULT_MAX_BATCH_BYTES, RecordBatchBuilder, type RecordBatchBuilderOptions } from './record-batch-builder.ts';
export { type ReadRecordBatchesOptions, readRecordBatches, RecordBatchView } from './record-batch-reader.ts';
export {
  buildControlBatch,
  type ControlBatchOptions,
  type ControlRecord,
  ControlRecordType,
  type ControlRecordTypeName,
  parseControlRecord,
} from './control-record.ts';
