import { existsSync, readdirSync, readFileSync } from 'node:fs';
import type { Hono } from 'hono';
import type { HttpEnv } from './http-context.ts';
import { HttpProblem } from './problem.ts';

/** Where `npm run build` writes the console (scripts/build-console.mjs), relative to this module in dist/ and in the sources. */
const ASSET_DIRS = ['../../console-assets/', '../../dist/console-assets/'];
/** The console's files are small (about 100 kB in all); more than this means a wrong directory. */
const MAX_ASSET_FILES = 64;

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json',
};

interface Asset {
  readonly body: Uint8Array;
  readonly contentType: string;
}

/** The paths the console serves without a bearer token: its static files hold no broker data. */
export function isConsoleAssetPath(path: string): boolean {
  return path === '/' || path === '/index.html' || path.startsWith('/console/');
}

function findAssetDir(): URL | undefined {
  return ASSET_DIRS.map((dir) => new URL(dir, import.meta.url)).find((dir) => existsSync(new URL('index.html', dir)));
}

function loadAssets(dir: URL): Map<string, Asset> {
  const names = readdirSync(dir).filter((name) => name !== 'index.html');
  if (names.length > MAX_ASSET_FILES) throw new Error(`invariant broken: ${names.length} files in the console's asset directory ${dir.pathname}`);
  const assets = new Map<string, Asset>();
  for (const name of names) {
    const dot = name.lastIndexOf('.');
    const contentType = CONTENT_TYPES[dot < 0 ? '' : name.slice(dot)];
    if (contentType !== undefined) assets.set(name, { body: readFileSync(new URL(name, dir)), contentType });
  }
  return assets;
}

/**
 * The web console: `index.html` at `/` (never cached, so a new build is picked up at once) and its
 * content-hashed scripts and styles under `/console/` (cached for a year: a changed file gets a new
 * name). The files are read once, when the app is created; without a build (`npm run build`), `/`
 * answers 503 with a sentence saying so. The console itself calls the `/v1` API with the user's
 * bearer token, so it shows only what that token may see.
 */
export function consoleRoutes(app: Hono<HttpEnv>): void {
  const dir = findAssetDir();
  const index = dir === undefined ? undefined : readFileSync(new URL('index.html', dir));
  const assets = dir === undefined ? new Map<string, Asset>() : loadAssets(dir);

  const serveIndex = () => {
    if (index === undefined) throw new HttpProblem('unavailable', 'the web console is not built: run `npm run build`');
    return new Response(index, {
      headers: { 'content-type': CONTENT_TYPES['.html']!, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff' },
    });
  };
  app.get('/', serveIndex);
  app.get('/index.html', serveIndex);
  app.get('/console/:name', (c) => {
    const name = c.req.param('name');
    const asset = assets.get(name);
    if (asset === undefined) throw new HttpProblem('notFound', `the console has no file "${name}"`);
    return new Response(asset.body, {
      headers: { 'content-type': asset.contentType, 'cache-control': 'public, max-age=31536000, immutable', 'x-content-type-options': 'nosniff' },
    });
  });
}
