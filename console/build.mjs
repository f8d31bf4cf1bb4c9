// Builds the web console into dist/console-assets/: one minified ES module bundle (Preact, htm,
// uPlot and the pages) and one stylesheet, both named by content hash so the broker can let
// browsers cache them for a year, and index.html pointing at them (served uncached).
// Run by `npm run build`; plain JavaScript so it runs on Node before anything is compiled.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const root = dirname(fileURLToPath(import.meta.url));
const outdir = join(root, '..', 'dist', 'console-assets');
rmSync(outdir, { recursive: true, force: true });
mkdirSync(outdir, { recursive: true });

const result = await build({
  entryPoints: [join(root, 'src', 'main.ts'), join(root, 'src', 'console.css')],
  outdir,
  bundle: true,
  minify: true,
  format: 'esm',
  target: ['es2020', 'chrome100', 'firefox100', 'safari15'],
  entryNames: '[name]-[hash]',
  legalComments: 'eof',
  metafile: true,
  logLevel: 'warning',
});

const outputs = Object.keys(result.metafile.outputs).map((file) => basename(file));
const js = outputs.find((f) => f.startsWith('main-') && f.endsWith('.js'));
const css = outputs.find((f) => f.startsWith('console-') && f.endsWith('.css'));
if (js === undefined || css === undefined) throw new Error(`the console build wrote no script or stylesheet: ${outputs.join(', ')}`);
const index = readFileSync(join(root, 'index.html'), 'utf8').replace('{{js}}', js).replace('{{css}}', css);
writeFileSync(join(outdir, 'index.html'), index);
console.log(`console: ${outputs.join(', ')}, index.html in ${outdir}`);
