// Builds the browser scripts of the pages with esbuild: src/web/verify-page.ts (which bundles the SDK's own
// verifyBundle from src/core) and src/web/search-page.ts, into public/assets/*.js (generated, git-ignored), copies the
// stylesheet and icon beside them, and writes public/assets/manifest.json listing the source files the outputs were
// built from (the Node entry rebuilds when one of them is newer than the manifest, see src/node-assets.ts).
//
// Size: src/core/credential.ts uses zod's mini API (`import * as z from 'zod/mini'`), whose functions tree-shake:
// the bundle keeps only the schemas and checks the core uses, plus the English locale credential.ts registers
// (about 32 KB, against about 80 KB for the classic API even when trimmed). The plugin below is kept as a guard for
// a src/core file that imports zod's classic API (`from 'zod'`), whose namespace re-export keeps every locale and
// JSON Schema generator in an esbuild bundle (about 500 KB): `zod` then resolves to a namespace of just the schema
// constructors the core uses (found by scanning src/core for `z.<name>`). Either way zod's JSON Schema generation,
// which verification never calls, is replaced with stubs that throw. Parsing and validation are zod's own code,
// unchanged; an unlisted constructor is a build error (esbuild's import-is-undefined), not a runtime one.
//
//   npx tsx scripts/build/page.ts          # build
//   npx tsx scripts/build/page.ts --check  # build into a temp folder and print the sizes
import { build, transform, type Metafile, type Plugin } from 'esbuild';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
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

function zodSchemasFile(): string {
  const require = createRequire(join(ROOT, 'package.json'));
  // zod's package.json exports map does not expose this path; find it next to the package root.
  return join(dirname(require.resolve('zod/package.json')), 'v4/classic/schemas.js');
}

/** Value exports of an ES module file (function/const/class declarations and `export { a as b }` lists). */
function exportNames(file: string): Set<string> {
  const text = readFileSync(file, 'utf8');
  const names = new Set<string>();
  for (const m of text.matchAll(/^export\s+(?:async\s+)?(?:function\*?|const|let|var|class)\s+([A-Za-z_$][\w$]*)/gm)) names.add(m[1]!);
  for (const m of text.matchAll(/^export\s*\{([^}]*)\}/gm)) {
    for (const part of m[1]!.split(',')) {
      const name = part.trim().split(/\s+as\s+/).pop();
      if (name) names.add(name);
    }
  }
  return names;
}

/** The `z.<name>` members the core's zod users reference (also when the call is chained onto the next line). */
function zodMembersUsed(): Set<string> {
  const dir = join(ROOT, 'src/core');
  const used = new Set<string>();
  for (const file of readdirSync(dir)) {
    if (!file.endsWith('.ts')) continue;
    const text = readFileSync(join(dir, file), 'utf8');
    if (!/from ['"]zod['"]/.test(text)) continue;
    for (const m of text.matchAll(/\bz\s*\.\s*([A-Za-z_$][\w$]*)/g)) used.add(m[1]!);
  }
  return used;
}

function zodPlugin(): Plugin {
  const schemas = zodSchemasFile();
  const available = exportNames(schemas);
  const members = [...zodMembersUsed()].filter((name) => available.has(name)).sort();
  const core = join(dirname(schemas), '../core');
  const stubbed = [join(core, 'json-schema-processors.js'), join(core, 'to-json-schema.js'), join(core, 'json-schema-generator.js')];
  return {
    name: 'certrail-zod',
    setup(b) {
      b.onResolve({ filter: /^zod$/ }, () => ({ path: 'zod', namespace: 'certrail-zod' }));
      b.onLoad({ filter: /^zod$/, namespace: 'certrail-zod' }, () => ({
        contents: `export * as z from ${JSON.stringify(`${schemas}?members`)};`,
        resolveDir: ROOT,
        loader: 'js',
      }));
      b.onResolve({ filter: /\?members$/ }, (args) => ({ path: args.path, namespace: 'certrail-zod-members' }));
      b.onLoad({ filter: /.*/, namespace: 'certrail-zod-members' }, () => ({
        contents: `export { ${members.join(', ')} } from ${JSON.stringify(schemas)};`,
        resolveDir: ROOT,
        loader: 'js',
      }));
      b.onResolve({ filter: /(?:json-schema-processors|to-json-schema|json-schema-generator)\.js$/ }, (args) => {
        const path = resolve(args.resolveDir, args.path);
        return stubbed.includes(path) ? { path, namespace: 'certrail-zod-stub' } : undefined;
      });
      b.onLoad({ filter: /.*/, namespace: 'certrail-zod-stub' }, (args) => {
        const names = [...exportNames(args.path)];
        const lines = ['const stub = () => { throw new Error("zod JSON Schema generation is not part of the page bundle"); };'];
        for (const name of names) lines.push(name === 'allProcessors' ? `export const ${name} = {};` : `export const ${name} = stub;`);
        return { contents: lines.join('\n'), loader: 'js' };
      });
    },
  };
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
    plugins: [zodPlugin()],
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
    .map((file) => file.replace(/\?members$/, ''))
    .filter((file) => !file.startsWith('certrail-zod') && !file.includes(':'))
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
