// The Workers entry's own logic, in Node (src/worker.ts imports only types from the Workers runtime): which requests
// go to the sequencer, and where managed signing keys come from on Workers.
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/core/bytes.js';
import { randomBytes } from '../../src/core/crypto.js';
import { formatSignerKey } from '../../src/core/note.js';
import { isSequencerRequest, secretManagedKeyStore } from '../../src/worker.js';

describe('the Workers entry', () => {
  it('sends writes and /healthz to the sequencer and serves every read itself', () => {
    for (const [method, path] of [
      ['POST', '/api/v1/certificates'],
      ['POST', '/api/v1/certificates/acme-cert/AI-1/events'],
      ['POST', '/api/v1/issuers'],
      ['POST', '/api/v1/issuers/acme-cert/keys/key-1/revoke'],
      ['PUT', '/log/checkpoint'],
      ['DELETE', '/api/v1/certificates/acme-cert/AI-1'],
      ['GET', '/healthz'],
    ] as const) {
      expect(isSequencerRequest(method, path), `${method} ${path}`).toBe(true);
    }
    for (const [method, path] of [
      ['GET', '/log/checkpoint'],
      ['GET', '/log/tile/0/000'],
      ['HEAD', '/api/v1/certificates/acme-cert/AI-1'],
      ['GET', '/v/acme-cert/AI-1'],
      ['POST', '/api/v1/verify'],
    ] as const) {
      expect(isSequencerRequest(method, path), `${method} ${path}`).toBe(false);
    }
  });

  it('takes explicit managed keys first, derives the others from the master secret, and refuses without either', async () => {
    const seed = randomBytes(32);
    const master = toHex(randomBytes(32));
    const store = secretManagedKeyStore(JSON.stringify({ 'old-cb': formatSignerKey('old-cb.managed-7', seed) }), master);
    expect(await store.get('old-cb')).toEqual({ keyId: 'managed-7', seed });
    const created = await store.create('new-cb', 'managed-1');
    expect(created.keyId).toBe('managed-1');
    expect(await store.get('new-cb')).toEqual(created); // derived again, the same key
    expect(toHex((await store.get('other-cb'))!.seed)).not.toBe(toHex(created.seed));
    // Another master derives other keys.
    expect(toHex((await secretManagedKeyStore(undefined, toHex(randomBytes(32))).create('new-cb', 'managed-1')).seed)).not.toBe(toHex(created.seed));

    const none = secretManagedKeyStore(undefined, undefined);
    expect(await none.get('new-cb')).toBeNull();
    await expect(none.create('new-cb', 'managed-1')).rejects.toMatchObject({ code: 'conflict' });
    // A key of another CB under a slug is refused, not used.
    const wrong = secretManagedKeyStore(JSON.stringify({ 'a-cb': formatSignerKey('b-cb.managed-1', seed) }), undefined);
    await expect(wrong.get('a-cb')).rejects.toMatchObject({ code: 'unavailable' });
    expect(() => secretManagedKeyStore(undefined, 'not hex')).toThrow(/MANAGED_KEY_MASTER/);
  });
});
