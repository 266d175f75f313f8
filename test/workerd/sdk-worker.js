// A plain Worker around the SDK bundle, loaded by test/workerd/vitest.config.ts next to the exact bytes of
// dist/verify.js, with no compatibility flags (no nodejs_compat): if the bundle needed anything from Node, loading
// this module would fail. POST { policy, now, bundles } → { verdicts, runtime }.
import { parseBundle, verifyBundle } from './verify.js';

async function hasWebCryptoEd25519() {
  try {
    await crypto.subtle.generateKey({ name: 'Ed25519' }, false, ['sign', 'verify']);
    return true;
  } catch {
    return false;
  }
}

export default {
  async fetch(request) {
    const input = await request.json();
    const verdicts = [];
    for (const bundle of input.bundles) verdicts.push(await verifyBundle(parseBundle(bundle), input.policy, { now: input.now }));
    return Response.json({
      verdicts,
      runtime: {
        userAgent: globalThis.navigator?.userAgent ?? null,
        process: typeof globalThis.process,
        Buffer: typeof globalThis.Buffer,
        webCryptoEd25519: await hasWebCryptoEd25519(),
      },
    });
  },
};
