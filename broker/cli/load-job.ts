import { existsSync, statSync } from 'node:fs';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { JOB_MARK, type JobDefinition, jobMarkOfThisCopy } from '../../streams/runtime/job-definition.ts';

/** A job module that cannot be used; `exitCode` 2 for a bad argument (missing file, wrong shape), 1 for a module that failed. */
export class JobModuleError extends Error {
  override readonly name = 'JobModuleError';

  constructor(
    message: string,
    readonly exitCode: 1 | 2,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

const TYPESCRIPT_EXTENSIONS = new Set(['.ts', '.mts', '.cts', '.tsx']);

/**
 * Whether this runtime imports TypeScript: Bun and Deno do; Node only with type stripping
 * (22.6+ behind a flag, on by default from 23.6), which it reports in `process.features.typescript`.
 */
function importsTypeScript(): boolean {
  if ('Bun' in globalThis || 'Deno' in globalThis) return true;
  const features = process.features as { typescript?: string | false };
  return typeof features.typescript === 'string';
}

function describeType(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** The reason `value` is not a job, or undefined when it is one. */
function shapeProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null) return `its default export is ${describeType(value)}, not a job: export default defineJob({ applicationId, topology })`;
  const job = value as Record<PropertyKey, unknown>;
  const mark = job[JOB_MARK];
  if (typeof mark === 'string' && mark !== jobMarkOfThisCopy) {
    return `it was made with another copy of rill/streams (${mark}) than this rill CLI runs (${jobMarkOfThisCopy}): run the rill CLI of the copy the job imports`;
  }
  if (typeof job['applicationId'] !== 'string') return `its default export has no applicationId string: export default defineJob({ applicationId, topology })`;
  if (typeof job['topology'] !== 'function') return 'its default export has no topology function: topology: (builder) => { ... }';
  if (job['config'] !== undefined && (typeof job['config'] !== 'object' || job['config'] === null || Array.isArray(job['config']))) return `its config is ${describeType(job['config'])}, not an object`;
  const topics = job['topics'];
  if (topics !== undefined) {
    if (!Array.isArray(topics)) return `its topics is ${describeType(topics)}, not an array of { name, partitions?, configs? }`;
    for (const topic of topics as unknown[]) {
      const t = topic as { name?: unknown; partitions?: unknown } | null;
      if (typeof t !== 'object' || t === null || typeof t.name !== 'string' || t.name === '') return 'each of its topics needs a name: { name, partitions?, configs? }';
      if (t.partitions !== undefined && (!Number.isInteger(t.partitions) || (t.partitions as number) < 1)) return `topic ${t.name} has partitions ${String(t.partitions)}, not a positive integer`;
    }
  }
  return undefined;
}

/** Imports a job module and checks its default export; failures are JobModuleErrors of one sentence. */
export async function loadJob(modulePath: string): Promise<JobDefinition> {
  const path = resolve(modulePath);
  if (!existsSync(path) || !statSync(path).isFile()) throw new JobModuleError(`job module ${modulePath} not found`, 2);
  if (TYPESCRIPT_EXTENSIONS.has(extname(path)) && !importsTypeScript()) {
    throw new JobModuleError(
      `Node ${process.versions.node} cannot import the TypeScript job module ${modulePath}: compile it to JavaScript (tsc) and run the .js file, or run rill with Bun or Deno, which import TypeScript`,
      2,
    );
  }
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(path).href)) as { default?: unknown };
  } catch (error) {
    throw new JobModuleError(`job module ${modulePath} failed to load: ${error instanceof Error ? error.message : String(error)}`, 1, { cause: error });
  }
  const problem = shapeProblem(module.default);
  if (problem !== undefined) throw new JobModuleError(`job module ${modulePath} is not a job: ${problem}`, 2);
  return module.default as JobDefinition;
}
