// The issuer memo (RegistryStore.memoizeIssuersBy): issuer and key rows are served from memory while the committed
// tree size is unchanged. Two registries on one SQLite file (the first sequences, the second follows, as two
// processes would) show that a registration, a key addition and a key revocation made by one are seen by the other on
// its very next read, even after both memoized the earlier state.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNodeRegistry, logOriginFor } from '../../src/node.js';
import type { Actor } from '../../src/registry/registry.js';
import { newCbKey } from '../support/client.js';
import { tempDir } from '../support/registry.js';

const BASE_URL = 'http://certrail.test';
const SLUG = 'memo-cb';

describe('issuer memo', () => {
  const dir = tempDir('certrail-memo-');
  const options = {
    dbPath: join(dir.path, 'certrail.db'),
    keyDir: join(dir.path, 'keys'),
    baseUrl: BASE_URL,
    logOrigin: logOriginFor(BASE_URL),
    maxDelayMs: 0,
  };
  let leader: Awaited<ReturnType<typeof createNodeRegistry>>;
  let follower: Awaited<ReturnType<typeof createNodeRegistry>>;
  let tokens = 0;
  const operator = (): Actor => ({ issuer: 'registry', keyId: 'registry', jti: `jti-${++tokens}`, expiresAt: Date.now() + 120_000 });
  const activeKeyIds = async (node: typeof leader) => (await node.views.activeKeys(SLUG, Date.now()))?.map((k) => k.keyId) ?? null;

  beforeAll(async () => {
    leader = await createNodeRegistry(options);
    follower = await createNodeRegistry(options);
  });

  afterAll(async () => {
    await follower.close();
    await leader.close();
    dir.remove();
  });

  it('has one sequencer: the second registry follows', () => {
    expect(leader.sequencer.leading).toBe(true);
    expect(follower.sequencer.leading).toBe(false);
  });

  it('sees a registration, a key addition and a key revocation of the other process at once', async () => {
    // Both memoize "not registered" first, so a stale memo would keep answering null.
    for (const node of [leader, follower]) expect(await activeKeyIds(node)).toBeNull();

    const a = await newCbKey(SLUG, 'key-a');
    await leader.registry.registerIssuer(operator(), {
      slug: SLUG,
      name: 'Memo Certification GmbH',
      managedSigning: false,
      keys: [{ keyId: a.keyId, publicKeyMultibase: a.publicKeyMultibase }],
    });
    for (const node of [leader, follower]) expect(await activeKeyIds(node)).toEqual(['key-a']);

    const b = await newCbKey(SLUG, 'key-b');
    await leader.registry.addIssuerKey(operator(), SLUG, b.keyId, b.publicKeyMultibase);
    for (const node of [leader, follower]) expect(await activeKeyIds(node)).toEqual(['key-a', 'key-b']);

    await leader.registry.revokeIssuerKey(operator(), SLUG, 'key-a', 'Rotated.');
    for (const node of [leader, follower]) {
      expect(await activeKeyIds(node)).toEqual(['key-b']);
      const revoked = (await node.views.issuer(SLUG, Date.now()))?.keys.find((k) => k.keyId === 'key-a');
      expect(revoked?.revokedAt).toEqual(expect.any(String));
    }
  });
});
