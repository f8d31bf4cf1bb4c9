import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from '../../helpers/child-process.ts';

/** Every `.ts` file under `dir`, as repository-relative paths. */
function sources(dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    for (const entry of readdirSync(path)) {
      const child = join(path, entry);
      if (statSync(child).isDirectory()) walk(child);
      else if (child.endsWith('.ts')) out.push(relative(repoRoot, child));
    }
  };
  walk(join(repoRoot, dir));
  return out;
}

/** The relative imports of each file (type-only imports and re-exports included), resolved to repository-relative paths. */
function importGraph(files: readonly string[]): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of files) {
    const text = readFileSync(join(repoRoot, file), 'utf8');
    const targets = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\b[^;'"]*?from\s+'(\.{1,2}\/[^']+)'/g)].map((m) => relative(repoRoot, resolve(repoRoot, dirname(file), m[1]!)));
    graph.set(file, targets);
  }
  return graph;
}

/** Files reachable from `start` through relative imports. */
function reachable(graph: ReadonlyMap<string, readonly string[]>, start: string): Set<string> {
  const seen = new Set<string>();
  const stack = [start];
  while (stack.length > 0) {
    for (const next of graph.get(stack.pop()!) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        stack.push(next);
      }
    }
  }
  return seen;
}

describe('the broker’s import graph', () => {
  const files = [...sources('broker'), ...sources('sdk'), ...sources('streams')];
  const graph = importGraph(files);

  it('lets broker.ts compose the coordinators: nothing under broker/group or broker/txn reaches broker.ts', () => {
    const coordinators = files.filter((f) => f.startsWith('broker/group/') || f.startsWith('broker/txn/'));
    expect(coordinators.length).toBeGreaterThan(10);
    expect(reachable(graph, 'broker/broker.ts')).toContain('broker/group/group-coordinator.ts');
    expect(coordinators.filter((f) => reachable(graph, f).has('broker/broker.ts'))).toEqual([]);
  });

  it('keeps the wire contract independent of the broker: nothing under sdk/ imports broker/', () => {
    expect(files.filter((f) => f.startsWith('sdk/') && (graph.get(f) ?? []).some((t) => t.startsWith('broker/')))).toEqual([]);
  });

  it('keeps the broker core free of stream jobs: only the front doors that compose both (the CLI, the HTTP API and the package entry exporting it) reach streams/', () => {
    const fronts = (f: string): boolean => f.startsWith('broker/cli/') || ['broker/http/streams-ops-routes.ts', 'broker/http/stream-apps-routes.ts', 'broker/http/stream-app-statuses.ts', 'broker/http/http-app.ts', 'broker/mod.ts'].includes(f);
    const reachesStreams = (f: string): boolean => [...reachable(graph, f)].some((t) => t.startsWith('streams/'));
    expect(reachesStreams('broker/cli/main.ts')).toBe(true);
    expect(files.filter((f) => f.startsWith('broker/') && !fronts(f) && reachesStreams(f))).toEqual([]);
  });
});
