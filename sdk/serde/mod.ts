export { isTextSerde, type Serde, type SerdeType, type TextSerde } from './serde.ts';
export { bytesSerde, jsonSerde, longSerde, stringSerde, wireSerde } from './basic-serdes.ts';
export { jsonSchemaSerde } from './json-schema-serde.ts';
export { msgpackSerde } from './msgpack-serde.ts';
