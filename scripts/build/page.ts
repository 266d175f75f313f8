// Builds the browser scripts of the pages with esbuild: src/web/verify-page.ts (which bundles the SDK's own
// verifyBundle from src/core) and src/web/search-page.ts, into public/assets/*.js (generated, git-ignored), copies the
// stylesheet and icon beside them, and writes public/assets/manifest.json listing the source files the outputs were
// built from (the Node entry rebuilds when one of them is newer than the manifest, see src/node-assets.ts).
//
// Size: the verify page's weight target is 100 KB for HTML + JS + CSS (issue 4; measured by scripts/bench/page.ts).
// The script holds no schema library (src/core/validate.ts is hand-written), a plain-JS SHA-256 (src/core/sha256.ts)
// and @noble/ed25519 only as the Ed25519 fallback, hashing with WebCrypto's SHA-512 (src/core/crypto.ts); --check
// prints each output's largest inputs.
//
//   npx tsx scripts/build/page.ts          # build
//   npx tsx scripts/build/page.ts --check  # build into a temp folder and print the sizes
import { build, transform, type Metafile } from 'esbuild';
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const PUBLIC_DIR = join(ROOT, 'public');
export const ASSETS_DIR = join(PUBLIC_DIR, 'assets');
export const MANIFEST = 'manifest.json';

/**
 * Static files copied next to the scripts (the stylesheet minified), so public/assets/ holds everything the pages
 * load under /assets/: the Workers assets binding serves that folder as is, the Node entry prefers it to public/.
 */
export const STATIC_ASSETS = ['certrail.css', 'favicon.svg'] as const;

/** The browser entries: source → output name under public/assets/. */
export const PAGE_ENTRIES: Readonly<Record<string, string>> = {
  'verify-page': join(ROOT, 'src/web/verify-page.ts'),
  'search-page': join(ROOT, 'src/web/search-page.ts'),
};

export interface PageBuild {
  outDir: string;
  /** Output file name → bytes. */
  outputs: Record<string, number>;
  /** Source files (relative to the repository) the outputs were built from. */
  inputs: string[];
  /** Output file name → the bytes each source contributes, largest first. */
  breakdown: Record<string, Array<{ input: string; bytes: number }>>;
  ms: number;
}

/** Builds the page scripts into `outDir` (default public/assets/) and writes the manifest. */
export async function buildPage(options: { outDir?: string; minify?: boolean } = {}): Promise<PageBuild> {
  const started = performance.now();
  const outDir = options.outDir ?? ASSETS_DIR;
  mkdirSync(outDir, { recursive: true });
  const result = await build({
    entryPoints: PAGE_ENTRIES,
    outdir: outDir,
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['es2022', 'chrome109', 'firefox115', 'safari16'],
    minify: options.minify ?? true,
    sourcemap: false,
    legalComments: 'eof',
    metafile: true,
    // Written below through a temporary file and a rename, so a server reading the assets never sees half a file.
    write: false,
    absWorkingDir: ROOT,
    logLevel: 'silent',
    logOverride: { 'import-is-undefined': 'error' },
  });
  if (result.errors.length > 0) throw new Error(`page build failed: ${result.errors.map((e) => e.text).join('; ')}`);
  const outputs: Record<string, number> = {};
  for (const file of result.outputFiles) {
    const temporary = `${file.path}.${process.pid}.tmp`;
    writeFileSync(temporary, file.contents);
    renameSync(temporary, file.path);
  }
  for (const name of STATIC_ASSETS) {
    const source = readFileSync(join(PUBLIC_DIR, name));
    const contents = name.endsWith('.css') && (options.minify ?? true)
      ? (await transform(source.toString('utf8'), { loader: 'css', minify: true, target: ['chrome109', 'firefox115', 'safari16'] })).code
      : source;
    const temporary = join(outDir, `${name}.${process.pid}.tmp`);
    writeFileSync(temporary, contents);
    renameSync(temporary, join(outDir, name));
    outputs[name] = Buffer.byteLength(contents);
  }
  const metafile: Metafile = result.metafile;
  const breakdown: PageBuild['breakdown'] = {};
  for (const [file, output] of Object.entries(metafile.outputs)) {
    const name = relative(outDir, resolve(ROOT, file));
    outputs[name] = output.bytes;
    breakdown[name] = Object.entries(output.inputs)
      .map(([input, { bytesInOutput }]) => ({ input, bytes: bytesInOutput }))
      .filter((i) => i.bytes > 0)
      .sort((a, b) => b.bytes - a.bytes);
  }
  const inputs = Object.keys(metafile.inputs)
    .filter((file) => !file.includes(':'))
    .map((file) => relative(ROOT, resolve(ROOT, file)))
    .concat(STATIC_ASSETS.map((name) => relative(ROOT, join(PUBLIC_DIR, name))))
    .filter((file, i, all) => all.indexOf(file) === i)
    .sort();
  const manifest = { builtAt: new Date().toISOString(), outputs, inputs };
  const temporary = join(outDir, `${MANIFEST}.${process.pid}.tmp`);
  writeFileSync(temporary, `${JSON.stringify(manifest, null, 2)}\n`);
  renameSync(temporary, join(outDir, MANIFEST));
  return { outDir, outputs, inputs, breakdown, ms: performance.now() - started };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const check = process.argv.includes('--check');
  const outDir = check ? join(ROOT, 'test-results', 'page-build') : ASSETS_DIR;
  const built = await buildPage({ outDir });
  for (const [name, bytes] of Object.entries(built.outputs)) {
    console.log(`${name.padEnd(20)} ${bytes.toLocaleString('en')} bytes`);
    if (check) for (const part of built.breakdown[name]?.slice(0, 25) ?? []) console.log(`  ${String(part.bytes).padStart(7)} ${part.input}`);
  }
  console.log(`built ${Object.keys(built.outputs).length} files from ${built.inputs.length} sources into ${relative(ROOT, built.outDir)} in ${Math.round(built.ms)} ms`);
}
