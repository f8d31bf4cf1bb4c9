/** Kafka's PascalCase field name to the camelCase property name ("TopicData" → "topicData"). */
export function camelCase(name: string): string {
  return name.charAt(0).toLowerCase() + name.slice(1);
}

/** "AddPartitionsToTxn" → "add-partitions-to-txn". */
export function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z])([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

/** "ProduceRequest" → "Produce". */
export function apiName(messageName: string): string {
  return messageName.replace(/(Request|Response)$/, '');
}
