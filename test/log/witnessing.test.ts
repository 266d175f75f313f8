// The registry's witness configuration (CERTRAIL_WITNESSES, CERTRAIL_WITNESS_QUORUM) and the log-side client against an
// in-process witness: it learns the witness's size from a 409, proves consistency from it, verifies the cosignature.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { randomBytes } from '../../src/core/crypto.js';
import { cosignatureSigner, ed25519NoteSigner } from '../../src/core/note.js';
import { defaultWitnessQuorum, parseWitnessList, WitnessClient, WitnessError } from '../../src/log/witnessing.js';
import { witnessOptionsFromEnv } from '../../src/node.js';
import { createWitnessApp } from '../../src/witness/app.js';
import { WitnessState } from '../../src/witness/state.js';
import { Witness } from '../../src/witness/witness.js';
import { MemoryLog } from '../support/memory-log.js';
import { tempDir } from '../support/registry.js';

describe('witness configuration', () => {
  it('parses url=vkey lists, including URLs with "=" and base64 keys with "+"', async () => {
    const a = (await cosignatureSigner('w1.example/w', randomBytes(32), () => 0)).vkey;
    const b = (await cosignatureSigner('w2.example/w', randomBytes(32), () => 0)).vkey;
    expect(parseWitnessList(`http://127.0.0.1:8790=${a}, https://w2.example/prefix?x=1=${b}\n`)).toEqual([
      { url: 'http://127.0.0.1:8790', vkey: a },
      { url: 'https://w2.example/prefix?x=1', vkey: b },
    ]);
    expect(parseWitnessList('')).toEqual([]);
    const logKey = (await ed25519NoteSigner('log.example/log', randomBytes(32))).vkey;
    expect(() => parseWitnessList(`http://w=${logKey}`)).toThrow(/cosignature\/v1 verifier key/);
    expect(() => parseWitnessList(`ftp://w=${a}`)).toThrow();
    expect(() => parseWitnessList(`http://w1=${a},http://w2=${a}`)).toThrow(/share the key name/);
    expect([0, 1, 2, 3, 4].map(defaultWitnessQuorum)).toEqual([0, 1, 2, 2, 3]);
    expect(witnessOptionsFromEnv({ CERTRAIL_WITNESSES: `http://w=${a}`, CERTRAIL_WITNESS_QUORUM: '1' })).toEqual({
      witnesses: [{ url: 'http://w', vkey: a }],
      witnessQuorum: 1,
    });
    expect(() => witnessOptionsFromEnv({ CERTRAIL_WITNESSES: `http://w=${a}`, CERTRAIL_WITNESS_QUORUM: '2' })).toThrow(/from 0 to the number/);
  });
});

describe('WitnessClient', () => {
  it('learns the size from a 409, proves from it, and refuses what the witness refuses', async () => {
    const dir = tempDir('certrail-witness-client-');
    const log = await MemoryLog.create('client.test/log');
    const state = WitnessState.open(join(dir.path, 'w.db'));
    const witness = await Witness.create({ key: { name: 'client.test/w', seed: randomBytes(32) }, logs: [log.vkey], state });
    const app = createWitnessApp(witness);
    const fetchApp: typeof fetch = async (input, init) => app.request(new URL(String(input)).pathname, init);
    const stored = async (size: number) => ({ size, root: log.root(size), note: await log.checkpoint(size), createdAt: 0 });
    const prove = async (from: number, to: number) => log.proof(from, to);
    try {
      log.append(10);
      const first = new WitnessClient({ url: 'http://w.test/', vkey: witness.vkey }, { timeoutMs: 1000, fetch: fetchApp });
      expect(await first.cosign(await stored(10), prove)).toMatch(/^\u2014 client\.test\/w /);
      // A client that knows nothing (a restarted registry): old 0 → 409 10 → proof 10 → 25.
      log.append(15);
      const restarted = new WitnessClient({ url: 'http://w.test', vkey: witness.vkey }, { timeoutMs: 1000, fetch: fetchApp });
      await restarted.cosign(await stored(25), prove);
      expect(restarted.size).toBe(25);
      // A rollback: the witness is ahead.
      const behind = new WitnessClient({ url: 'http://w.test', vkey: witness.vkey }, { timeoutMs: 1000, fetch: fetchApp });
      await expect(behind.cosign(await stored(20), prove)).rejects.toMatchObject({ kind: 'ahead' });
      // A fork beyond the witness's size: 422.
      const fork = log.fork(20).append(10, 'fork');
      const forked = new WitnessClient({ url: 'http://w.test', vkey: witness.vkey }, { timeoutMs: 1000, fetch: fetchApp });
      const forkCheckpoint = { size: 30, root: fork.root(30), note: await fork.checkpoint(30), createdAt: 0 };
      const error = await forked.cosign(forkCheckpoint, async (from, to) => fork.proof(from, to)).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WitnessError);
      expect((error as WitnessError).kind).toBe('inconsistent');
      // A witness answering with another key's cosignature is not trusted.
      const impostor = (await cosignatureSigner('client.test/w', randomBytes(32), () => 0)).vkey;
      const wrongKey = new WitnessClient({ url: 'http://w.test', vkey: impostor }, { timeoutMs: 1000, fetch: fetchApp });
      await expect(wrongKey.cosign(await stored(25), prove)).rejects.toMatchObject({ kind: 'bad-response' });
      // Unreachable.
      const down = new WitnessClient({ url: 'http://127.0.0.1:9', vkey: witness.vkey }, { timeoutMs: 500 });
      await expect(down.cosign(await stored(25), prove)).rejects.toMatchObject({ kind: 'unavailable' });
    } finally {
      state.close();
      dir.remove();
    }
  });
});
