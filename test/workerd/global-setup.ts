// Runs in Node before the workerd tests: builds dist/verify.js, starts a real registry on loopback, seeds the demo,
// fetches every demo certificate's bundle and API verdict and the SDK's verdicts in Node, then stops the registry.
// The tests inside workerd get all of it through `inject('workerdFixture')`; nothing there talks to the network.
import { readFileSync } from 'node:fs';
import type { TestProject } from 'vitest/node';
import { buildSdk } from '../../scripts/build/sdk.js';
import { parseJsonStrict, type JsonValue } from '../../src/core/json.js';
import { parseBundle, verifyBundle, type TrustPolicy } from '../../src/core/verify.js';
import { DEMO_ISSUER, seedDemo } from '../../src/demo.js';
import { startTestServer, tempDir } from '../support/registry.js';
import type { WorkerdFixture } from './fixture.js';

export default async function setup(project: TestProject): Promise<void> {
  const build = await buildSdk();
  if (build.nodeImports.length > 0) throw new Error(`dist/verify.js imports Node builtins: ${build.nodeImports.join(', ')}`);
  const dir = tempDir('certrail-workerd-');
  const server = await startTestServer(dir.path);
  try {
    const demo = await seedDemo({ registry: server.registry, views: server.views, baseUrl: server.config.baseUrl });
    if (!demo) throw new Error('the demo was not seeded');
    const wellKnown = (await (await fetch(`${server.url}/.well-known/certrail`)).json()) as { logVerifierKey: string; registryKey: string };
    const policy: TrustPolicy = { log: wellKnown.logVerifierKey, registryKey: wellKnown.registryKey, witnesses: [], quorum: 0 };
    const now = Date.now();
    const numbers = demo.map((c) => c.number);
    const bundles: JsonValue[] = [];
    const apiStatus: WorkerdFixture['apiStatus'] = [];
    for (const number of numbers) {
      const res = await fetch(`${server.url}/api/v1/certificates/${DEMO_ISSUER}/${number}/bundle`);
      if (res.status !== 200) throw new Error(`bundle of ${number}: HTTP ${res.status}`);
      bundles.push(parseJsonStrict(await res.text()));
      const verdict = (await (await fetch(`${server.url}/v/${DEMO_ISSUER}/${number}`, { headers: { accept: 'application/json' } })).json()) as WorkerdFixture['apiStatus'][number];
      apiStatus.push({ status: verdict.status, surveillance: verdict.surveillance, valid: verdict.valid });
    }
    const expected = await Promise.all(bundles.map((b) => verifyBundle(parseBundle(b), policy, { now })));
    project.provide('workerdFixture', { policy, now, numbers, bundles, expected, apiStatus, sdkSource: readFileSync(build.outfile, 'utf8') });
  } finally {
    await server.close();
    dir.remove();
  }
}
