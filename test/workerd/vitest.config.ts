// The workerd test project: `vitest run --config test/workerd/vitest.config.ts` (part of `npm test`).
// global-setup.ts (in Node) builds dist/verify.js and fetches real demo bundles from a registry on loopback; the tests
// (*.workerd.ts) then run inside workerd through @cloudflare/vitest-pool-workers, fully offline:
// - the test isolate imports dist/verify.js as `certrail/verify` (aliased below) and verifies the bundles;
// - a second, plain worker ("certrail-sdk", sdk-worker.js) loads the exact bytes of dist/verify.js without Vite and
//   without nodejs_compat (the pool's own test isolate always has Node compatibility on), reached via the SDK binding.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { cloudflareTest } from '@cloudflare/vitest-pool-workers';
import { defineConfig } from 'vitest/config';

// Offline and quiet, however the project is started (DESIGN §Dependencies: Cloudflare tooling offline).
process.env.WRANGLER_SEND_METRICS ??= 'false';
process.env.CLOUDFLARE_CF_FETCH_ENABLED ??= 'false';

const HERE = dirname(fileURLToPath(import.meta.url));
const ROOT = resolve(HERE, '..', '..');
/** The compatibility date of wrangler.toml, which the bundled workerd supports. */
const COMPATIBILITY_DATE = '2026-04-26';

export default defineConfig({
  plugins: [
    cloudflareTest(({ inject }) => ({
      miniflare: {
        compatibilityDate: COMPATIBILITY_DATE,
        serviceBindings: { SDK: 'certrail-sdk' },
        workers: [
          {
            name: 'certrail-sdk',
            compatibilityDate: COMPATIBILITY_DATE,
            compatibilityFlags: [],
            modulesRoot: '/',
            modules: [
              { type: 'ESModule', path: '/sdk-worker.js', contents: readFileSync(join(HERE, 'sdk-worker.js'), 'utf8') },
              { type: 'ESModule', path: '/verify.js', contents: inject('workerdFixture').sdkSource },
            ],
          },
        ],
      },
    })),
  ],
  resolve: { alias: { 'certrail/verify': join(ROOT, 'dist', 'verify.js') } },
  test: {
    name: 'workerd',
    root: ROOT,
    include: ['test/workerd/**/*.workerd.ts'],
    globalSetup: ['test/workerd/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
});
