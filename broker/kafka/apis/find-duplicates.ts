/** The keys that occur more than once, for requests that Kafka rejects when they name a thing twice. */
export function findDuplicates(keys: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const duplicates = new Set<string>();
  for (const key of keys) {
    if (seen.has(key)) duplicates.add(key);
    else seen.add(key);
  }
  return duplicates;
}
