/**
 * Topic filters (§4.7): levels separated by `/`, `+` matching exactly one level and `#` (last)
 * matching any number of remaining levels, including none. Topics starting with `$` are not
 * matched by a filter starting with a wildcard (§4.7.2).
 */

/** Why a filter is invalid, or undefined when it is valid. */
export function topicFilterProblem(filter: string): string | undefined {
  if (filter.length === 0) return 'a topic filter must not be empty';
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const level = levels[i]!;
    if (level.includes('#') && (level !== '#' || i !== levels.length - 1)) return `"#" must be a whole level and the last one in "${filter}"`;
    if (level.includes('+') && level !== '+') return `"+" must be a whole level in "${filter}"`;
  }
  return undefined;
}

export function hasWildcard(filter: string): boolean {
  return filter.includes('+') || filter.includes('#');
}

/** Whether `topic` (a topic name, no wildcards) matches `filter` (a valid filter). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  if (topic.startsWith('$') && (f[0] === '+' || f[0] === '#')) return false;
  for (let i = 0; i < f.length; i++) {
    const level = f[i]!;
    if (level === '#') return true;
    if (i >= t.length) return false;
    if (level !== '+' && level !== t[i]) return false;
  }
  return f.length === t.length;
}

/** A shared subscription `$share/<group>/<filter>` split into its parts, or undefined for an ordinary filter. */
export function parseSharedFilter(filter: string): { group: string; filter: string } | undefined {
  if (!filter.startsWith('$share/')) return undefined;
  const rest = filter.slice('$share/'.length);
  const slash = rest.indexOf('/');
  if (slash <= 0) return undefined;
  return { group: rest.slice(0, slash), filter: rest.slice(slash + 1) };
}
