// Node entry helper: loads the pages' assets from public/ into memory at start. The browser scripts are generated
// (public/assets/*.js, git-ignored) by scripts/build/page.ts (`npm run build`); when they are missing, or a source
// file they were built from is newer than their manifest, this builds them first (esbuild, about a second), so a
// fresh checkout and an edited src/web/ both serve current scripts. Set CERTRAIL_BUILD_PAGE=0 to never build here
// (read-only deployments): missing scripts then answer 404 and the pages still work without them.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ASSET_NAMES, ASSET_TYPES, type Asset, type AssetMap } from './http/pages/assets.js';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PUBLIC_DIR = join(ROOT, 'public');
const ASSETS_DIR = join(PUBLIC_DIR, 'assets');
const MANIFEST = join(ASSETS_DIR, 'manifest.json');

/** Where each asset's file lives: the scripts are built; the stylesheet and icon are sources, copied by the build. */
function fileOf(name: string): string {
  const built = join(ASSETS_DIR, name);
  return name.endsWith('.js') || existsSync(built) ? built : join(PUBLIC_DIR, name);
}

/** Whether the built scripts are missing or older than one of the sources the manifest lists. */
export function pageBuildStale(): boolean {
  if (!existsSync(MANIFEST)) return true;
  for (const name of ASSET_NAMES) if (name.endsWith('.js') && !existsSync(fileOf(name))) return true;
  const builtAt = statSync(MANIFEST).mtimeMs;
  let inputs: unknown;
  try {
    inputs = (JSON.parse(readFileSync(MANIFEST, 'utf8')) as { inputs?: unknown }).inputs;
  } catch {
    return true;
  }
  if (!Array.isArray(inputs)) return true;
  for (const input of inputs) {
    if (typeof input !== 'string') return true;
    const file = join(ROOT, input);
    if (!existsSync(file) || statSync(file).mtimeMs > builtAt) return true;
  }
  return false;
}

let building: Promise<void> | null = null;

/** Builds the page scripts if they are missing or stale (once per process at a time). */
export async function ensurePageBuilt(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  if (env.CERTRAIL_BUILD_PAGE === '0' || !pageBuildStale()) return;
  building ??= (async () => {
    // Loaded only when needed: esbuild is a build tool, not part of serving.
    const { buildPage } = await import('../scripts/build/page.js');
    await buildPage();
  })().finally(() => {
    building = null;
  });
  await building;
}

/** Reads the assets from public/ (missing ones are left out and answer 404). */
export function loadAssets(): AssetMap {
  const assets = new Map<string, Asset>();
  for (const name of ASSET_NAMES) {
    const file = fileOf(name);
    if (!existsSync(file)) continue;
    const body = new Uint8Array(readFileSync(file));
    assets.set(name, { body, contentType: ASSET_TYPES[name], hash: createHash('sha256').update(body).digest('hex').slice(0, 16) });
  }
  return assets;
}

/** The Node entry's assets: built if needed, then loaded. A failed build is reported and the pages run without scripts. */
export async function nodeAssets(env: NodeJS.ProcessEnv = process.env): Promise<AssetMap> {
  try {
    await ensurePageBuilt(env);
  } catch (error) {
    console.error(`page scripts not built: ${error instanceof Error ? error.message : String(error)}`);
  }
  return loadAssets();
}
