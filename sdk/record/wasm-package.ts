import { createRequire } from 'node:module';

/**
 * Loads one of the codecs' CommonJS packages synchronously. Their Node builds compile their
 * WebAssembly with `new WebAssembly.Module` while being required, so a codec is ready on its first
 * call without an async init, which the synchronous log path and record reader could not await.
 * `node:module`'s createRequire exists on Node, Bun and Deno.
 */
export const requireWasmPackage: NodeJS.Require = createRequire(import.meta.url);
