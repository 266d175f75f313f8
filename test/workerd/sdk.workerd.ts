// The SDK bundle (dist/verify.js) inside workerd: every demo certificate's bundle, fetched from a real registry by
// global-setup.ts, verifies to the same verdict as in Node and as the API says.
import { describe, expect, inject, it } from 'vitest';
import { parseBundle, verifyBundle, type BundleVerdict } from 'certrail/verify';

const fixture = inject('workerdFixture');

interface SdkWorkerAnswer {
  verdicts: BundleVerdict[];
  runtime: { userAgent: string | null; process: string; Buffer: string; webCryptoEd25519: boolean };
}

/** The SDK binding to the plain worker. `cloudflare:workers` is imported by a computed name so that the Node
 * typecheck of this file needs no Workers type declarations. */
async function sdkWorker(): Promise<{ fetch(url: string, init: RequestInit): Promise<Response> }> {
  const name = 'cloudflare:workers';
  const workers = (await import(/* @vite-ignore */ name)) as { env: { SDK: { fetch(url: string, init: RequestInit): Promise<Response> } } };
  return workers.env.SDK;
}

describe('the SDK in workerd', () => {
  it('runs in the Workers runtime', () => {
    expect(navigator.userAgent).toBe('Cloudflare-Workers');
  });

  it.each(fixture.numbers.map((number, i) => [number, i] as const))('%s: the same verdict as in Node and the API', async (number, i) => {
    const verdict = await verifyBundle(parseBundle(fixture.bundles[i]!), fixture.policy, { now: fixture.now });
    expect(verdict).toEqual(fixture.expected[i]);
    expect({ status: verdict.status, surveillance: verdict.surveillance, valid: verdict.valid }, number).toEqual(fixture.apiStatus[i]);
  });

  it('a plain worker without nodejs_compat loads the exact dist/verify.js and gives the same verdicts', async () => {
    const sdk = await sdkWorker();
    const res = await sdk.fetch('http://sdk/verify', {
      method: 'POST',
      body: JSON.stringify({ policy: fixture.policy, now: fixture.now, bundles: fixture.bundles }),
    });
    expect(res.status).toBe(200);
    const answer = (await res.json()) as SdkWorkerAnswer;
    expect(answer.runtime).toEqual({ userAgent: 'Cloudflare-Workers', process: 'undefined', Buffer: 'undefined', webCryptoEd25519: true });
    expect(answer.verdicts).toEqual(fixture.expected);
    expect(new Set(answer.verdicts.map((v) => v.status))).toEqual(new Set(['active', 'suspended', 'revoked', 'expired', 'not-yet-valid']));
  });

  it('a tampered bundle fails inside workerd', async () => {
    const bundle = parseBundle(structuredClone(fixture.bundles[0]!));
    bundle.checkpoint = bundle.checkpoint.replace(/\n(\d+)\n/, (_, size: string) => `\n${Number(size) + 1}\n`);
    const verdict = await verifyBundle(bundle, fixture.policy, { now: fixture.now });
    expect(verdict.valid).toBe(false);
    expect(verdict.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(['checkpoint']);
  });
});
