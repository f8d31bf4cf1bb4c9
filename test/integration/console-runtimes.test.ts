import { describe, expect, it } from 'vitest';
import { startBrokerProcess } from '../helpers/broker-process.ts';
import { runtimes } from '../helpers/child-process.ts';

/**
 * The web console is served by `rill start` on every runtime: `/` is index.html (never cached) and
 * names a content-hashed script that is served with a year's caching. Needs `npm run build`
 * (dist/console-assets, and dist/ for Node).
 */
describe('web console assets', () => {
  it.each(runtimes)('are served on %s', async (runtime) => {
    const broker = await startBrokerProcess({ runtime });
    try {
      const index = await fetch(`${broker.httpUrl}/`);
      expect(index.status).toBe(200);
      expect(index.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(index.headers.get('cache-control')).toBe('no-cache');
      const html = await index.text();
      const script = /<script type="module" src="(\/console\/main-[A-Z0-9]+\.js)">/.exec(html)?.[1];
      const style = /<link rel="stylesheet" href="(\/console\/console-[A-Z0-9]+\.css)"/.exec(html)?.[1];
      expect(script, html).toBeDefined();
      expect(style, html).toBeDefined();

      const asset = await fetch(`${broker.httpUrl}${script}`);
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
      expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
      // The bundle carries its libraries (no CDN at run time) and their licence comments.
      const code = await asset.text();
      expect(code).toContain('/v1/summary');
      expect(code).not.toMatch(/https?:\/\/(cdn|unpkg|esm\.sh)/);
      expect((await fetch(`${broker.httpUrl}${style}`)).headers.get('content-type')).toBe('text/css; charset=utf-8');

      const missing = await fetch(`${broker.httpUrl}/console/nope.js`);
      expect(missing.status).toBe(404);
      expect(missing.headers.get('content-type')).toBe('application/problem+json');
      await missing.body?.cancel();
    } finally {
      await broker.dispose();
    }
  });
});
