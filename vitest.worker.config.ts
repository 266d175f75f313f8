// The HTTP conformance tests, unchanged, against the Workers entry (src/worker.ts) under `wrangler dev --local`:
// CERTRAIL_TEST_TARGET=worker makes test/support/registry.ts start the Worker instead of the Node server.
// Run by `npm run test:worker` (part of `npm test`). The Worker-only tests (test/worker/) run in the main suite.
import { defineConfig } from 'vitest/config';

/** Tests that talk to the registry over HTTP only (no Node-only internals such as server.app or server.registry). */
export const WORKER_CONFORMANCE = [
  'test/http/tlog-client.test.ts',
  'test/http/lifecycle.test.ts',
  'test/http/reads.test.ts',
  'test/http/bundle.test.ts',
  'test/http/authorization.test.ts',
];

export default defineConfig({
  test: {
    include: WORKER_CONFORMANCE,
    env: { CERTRAIL_TEST_TARGET: 'worker', WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
