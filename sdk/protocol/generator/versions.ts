/** An inclusive version range; `hi` is Infinity for "N+", and lo > hi means empty ("none"). */
export interface VersionRange {
  readonly lo: number;
  readonly hi: number;
}

export const NO_VERSIONS: VersionRange = { lo: 1, hi: 0 };

/** Parses Kafka's version syntax: "3+", "0-12", "7", "none". */
export function parseVersions(text: string | undefined): VersionRange {
  if (text === undefined || text === 'none' || text === '') return NO_VERSIONS;
  const plus = /^(\d+)\+$/.exec(text);
  if (plus) return { lo: Number(plus[1]), hi: Infinity };
  const range = /^(\d+)-(\d+)$/.exec(text);
  if (range) return { lo: Number(range[1]), hi: Number(range[2]) };
  if (/^\d+$/.test(text)) return { lo: Number(text), hi: Number(text) };
  throw new Error(`unparseable version range ${JSON.stringify(text)}`);
}

export function isEmpty(r: VersionRange): boolean {
  return r.lo > r.hi;
}

export function intersect(a: VersionRange, b: VersionRange): VersionRange {
  const lo = Math.max(a.lo, b.lo);
  const hi = Math.min(a.hi, b.hi);
  return lo > hi ? NO_VERSIONS : { lo, hi };
}

export function contains(outer: VersionRange, inner: VersionRange): boolean {
  return isEmpty(inner) || (outer.lo <= inner.lo && outer.hi >= inner.hi);
}

export function formatVersions(r: VersionRange): string {
  if (isEmpty(r)) return 'none';
  if (r.hi === Infinity) return `${r.lo}+`;
  return r.lo === r.hi ? `${r.lo}` : `${r.lo}-${r.hi}`;
}

/**
 * The test `v` must pass to lie in `range`, knowing `v` already lies in `context`: `true` when every
 * context version qualifies, `false` when none does, else a TypeScript condition on `v`.
 */
export function versionCondition(range: VersionRange, context: VersionRange): string | boolean {
  const r = intersect(range, context);
  if (isEmpty(r)) return false;
  if (contains(r, context)) return true;
  const parts: string[] = [];
  if (r.lo > context.lo) parts.push(`v >= ${r.lo}`);
  if (r.hi < context.hi) parts.push(`v <= ${r.hi}`);
  return parts.join(' && ');
}
