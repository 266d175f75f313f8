// Builds the offline verification SDK: esbuild bundles src/core/verify.ts and everything it imports into one
// self-contained ES module, dist/verify.js (platform neutral, minified, with dist/verify.js.map), which
// package.json exports as `certrail/verify`. Its types are the TypeScript source itself (`types` points at
// src/core/verify.ts), so they cannot drift from the code.
//
//   npm run build:sdk          (= tsx scripts/build/sdk.ts)
//
// The bundle must run in browsers and Workers, so it may import nothing from Node. Node builtins (`node:*` and the
// bare names such as `crypto`, `fs`, `buffer`) are marked external instead of failing resolution, so that a stray
// import shows up in the metafile, where `nodeImportsOf` finds it; the command then exits 1 and
// test/core/sdk.test.ts fails.
//
// esbuild is the one tsx depends on (tsx is a declared dependency), resolved from tsx's folder, so the build does
// not rest on whichever esbuild npm happened to hoist.
import { mkdirSync, statSync } from 'node:fs';
import { builtinModules, createRequire } from 'node:module';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SDK_ENTRY = join(ROOT, 'src', 'core', 'verify.ts');
export const SDK_OUTFILE = join(ROOT, 'dist', 'verify.js');

/** The part of esbuild's metafile (esbuild `Metafile`) this script reads. */
export interface Metafile {
  inputs: Record<string, { bytes: number; imports: Array<{ path: string; kind: string; external?: boolean; original?: string }> }>;
  outputs: Record<string, { bytes: number; imports: Array<{ path: string; kind: string; external?: boolean }>; exports: string[]; entryPoint?: string }>;
}

/** The part of esbuild's API this script uses (typed here so the typecheck does not depend on npm's hoisting). */
interface Esbuild {
  version: string;
  build(options: {
    entryPoints: string[];
    outfile: string;
    bundle: true;
    format: 'esm';
    platform: 'neutral';
    target: string;
    mainFields: string[];
    minify: boolean;
    sourcemap: boolean;
    metafile: true;
    external: string[];
    legalComments: 'eof' | 'none';
    logLevel: 'silent' | 'warning' | 'error';
    write: boolean;
  }): Promise<{ metafile: Metafile; warnings: Array<{ text: string }> }>;
}

function loadEsbuild(): Esbuild {
  const fromTsx = createRequire(createRequire(import.meta.url).resolve('tsx/package.json'));
  return fromTsx('esbuild') as Esbuild;
}

/** Every Node builtin name, with and without `node:`, and their subpaths (`fs/promises`). */
const NODE_BUILTINS = new Set(builtinModules.flatMap((m) => [m, `node:${m}`]));

/** Whether an import specifier names a Node builtin (`node:crypto`, `crypto`, `fs/promises`, `node:test`). */
export function isNodeBuiltin(specifier: string): boolean {
  if (specifier.startsWith('node:')) return true;
  return NODE_BUILTINS.has(specifier) || NODE_BUILTINS.has(specifier.split('/')[0]!);
}

/**
 * The Node imports a build left in its output or met in its inputs, as `importer → specifier`. Empty for a bundle
 * that runs anywhere. Reads both the inputs (the import as written) and the outputs (what the bundle still imports).
 */
export function nodeImportsOf(metafile: Metafile): string[] {
  const found = new Set<string>();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    for (const i of input.imports) {
      if (isNodeBuiltin(i.original ?? i.path) || isNodeBuiltin(i.path)) found.add(`${file} → ${i.original ?? i.path}`);
    }
  }
  for (const [file, output] of Object.entries(metafile.outputs)) {
    for (const i of output.imports) if (isNodeBuiltin(i.path)) found.add(`${file} → ${i.path}`);
  }
  return [...found].sort();
}

export interface SdkBuild {
  outfile: string;
  /** Size of the minified bundle. */
  bytes: number;
  metafile: Metafile;
  /** Node imports found (see nodeImportsOf); must be empty. */
  nodeImports: string[];
  esbuildVersion: string;
}

/**
 * Bundles `entry` (default src/core/verify.ts) into `outfile` (default dist/verify.js) with its source map. Tests
 * pass another entry and outfile to check that the scan catches a Node import.
 */
export async function buildSdk(options: { entry?: string; outfile?: string; minify?: boolean } = {}): Promise<SdkBuild> {
  const esbuild = loadEsbuild();
  const outfile = options.outfile ?? SDK_OUTFILE;
  mkdirSync(dirname(outfile), { recursive: true });
  const result = await esbuild.build({
    entryPoints: [options.entry ?? SDK_ENTRY],
    outfile,
    bundle: true,
    format: 'esm',
    platform: 'neutral',
    // Browsers and workerd with WebCrypto Ed25519; ES2022 is what tsconfig targets.
    target: 'es2022',
    // platform neutral resolves no main fields by default; packages without an `exports` map need these.
    mainFields: ['module', 'main'],
    minify: options.minify ?? true,
    sourcemap: true,
    metafile: true,
    external: ['node:*', ...builtinModules.flatMap((m) => [m, `${m}/*`])],
    legalComments: 'eof',
    logLevel: 'error',
    write: true,
  });
  return {
    outfile,
    bytes: statSync(outfile).size,
    metafile: result.metafile,
    nodeImports: nodeImportsOf(result.metafile),
    esbuildVersion: esbuild.version,
  };
}

/** The inputs that contribute most to the bundle, by bytes in the source, grouped by package. */
export function largestInputs(metafile: Metafile, top = 8): Array<{ name: string; bytes: number }> {
  const sizes = new Map<string, number>();
  for (const [file, input] of Object.entries(metafile.inputs)) {
    const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(file);
    const name = match ? match[1]! : dirname(file);
    sizes.set(name, (sizes.get(name) ?? 0) + input.bytes);
  }
  return [...sizes].map(([name, bytes]) => ({ name, bytes })).sort((a, b) => b.bytes - a.bytes).slice(0, top);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const build = await buildSdk();
  const kb = (n: number) => `${(n / 1024).toFixed(1)} KiB`;
  console.log(`${relative(ROOT, build.outfile)}: ${kb(build.bytes)} minified (esbuild ${build.esbuildVersion}), source map ${relative(ROOT, build.outfile)}.map`);
  console.log(`inputs by source size: ${largestInputs(build.metafile).map((i) => `${i.name} ${kb(i.bytes)}`).join(', ')}`);
  if (build.nodeImports.length > 0) {
    console.error(`the SDK bundle imports Node builtins, so it would not run in browsers or Workers:\n  ${build.nodeImports.join('\n  ')}`);
    process.exit(1);
  }
}
