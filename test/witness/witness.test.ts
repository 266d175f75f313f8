// The witness (c2sp.org/tlog-witness §add-checkpoint) in process over a real SQLite state file: every status the spec
// names, the cosignature it returns, persistence across a reopen, and atomicity of concurrent requests.
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from '../../src/core/crypto.js';
import { cosignatureVerifier, ed25519NoteSigner, openNote, parseNote, parseVerifierKey, SIG_TYPE_COSIGNATURE_V1 } from '../../src/core/note.js';
import { formatAddCheckpointRequest, parseAddCheckpointRequest, TLOG_SIZE_MEDIA_TYPE } from '../../src/core/tlog-witness.js';
import { createWitnessApp } from '../../src/witness/app.js';
import { WitnessState } from '../../src/witness/state.js';
import { Witness } from '../../src/witness/witness.js';
import { MemoryLog } from '../support/memory-log.js';
import { tempDir } from '../support/registry.js';

describe('tlog-witness add-checkpoint', () => {
  const dir = tempDir('certrail-witness-');
  const dbPath = join(dir.path, 'witness.db');
  const seed = randomBytes(32);
  let log: MemoryLog;
  let state: WitnessState;
  let app: ReturnType<typeof createWitnessApp>;
  let witness: Witness;

  async function open(): Promise<void> {
    state = WitnessState.open(dbPath);
    witness = await Witness.create({ key: { name: 'witness.test/w1', seed }, logs: [log.vkey], state });
    app = createWitnessApp(witness);
  }

  async function post(body: string): Promise<{ status: number; type: string; text: string }> {
    const res = await app.request('/add-checkpoint', { method: 'POST', body });
    return { status: res.status, type: res.headers.get('content-type') ?? '', text: await res.text() };
  }

  async function add(from: MemoryLog, oldSize: number, size = from.size, proof = from.proof(oldSize, size)) {
    return post(formatAddCheckpointRequest({ oldSize, proof, checkpoint: await from.checkpoint(size) }));
  }

  beforeAll(async () => {
    log = await MemoryLog.create('log.test/one');
    log.append(10);
    await open();
  });
  afterAll(() => {
    state.close();
    dir.remove();
  });

  it('parses and formats request bodies as the spec shows them', () => {
    const body = `old 3\n${'A'.repeat(43)}=\n\nexample.com/log\n5\n${'B'.repeat(43)}=\n\n\u2014 example.com/log AAAA\n`;
    const parsed = parseAddCheckpointRequest(body);
    expect(parsed.oldSize).toBe(3);
    expect(parsed.proof).toHaveLength(1);
    expect(formatAddCheckpointRequest(parsed)).toBe(body);
    for (const bad of ['old 01\n\nx\n', 'old 1\n', 'new 1\n\nx\n', 'old 0\nAAAA\n\nx\n', `old 1\n${`${'A'.repeat(43)}=\n`.repeat(64)}\nx\n`]) {
      expect(() => parseAddCheckpointRequest(bad)).toThrow();
    }
  });

  it('cosigns the first checkpoint it sees with a valid cosignature/v1 line', async () => {
    const res = await add(log, 0);
    expect(res.status).toBe(200);
    const lines = res.text.split('\n').filter(Boolean);
    expect(lines).toHaveLength(1);
    const verifier = parseVerifierKey(witness.vkey);
    expect(verifier.type).toBe(SIG_TYPE_COSIGNATURE_V1);
    const text = parseNote(await log.checkpoint()).text;
    const opened = await openNote(`${text}\n${lines[0]}\n`, [cosignatureVerifier(verifier.name, verifier.publicKey)]);
    expect(opened.verified[0]!.timestamp).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(state.latest(log.origin)?.size).toBe(10);
  });

  it('answers 409 text/x.tlog.size with its size when old does not match', async () => {
    log.append(5);
    for (const old of [0, 7, 12]) {
      const res = await add(log, old, log.size, old === 0 ? [] : log.proof(old));
      expect(res.status).toBe(409);
      expect(res.type).toBe(TLOG_SIZE_MEDIA_TYPE);
      expect(res.text).toBe('10\n');
    }
  });

  it('cosigns a consistent extension and refuses a bad proof with 422', async () => {
    const proof = log.proof(10);
    const flipped = proof.map((h, i) => (i === 0 ? h.map((b, j) => (j === 0 ? b ^ 1 : b)) : h));
    expect((await add(log, 10, log.size, flipped)).status).toBe(422);
    expect((await add(log, 10, log.size, proof.slice(1))).status).toBe(422);
    expect(state.latest(log.origin)?.size).toBe(10);
    expect((await add(log, 10)).status).toBe(200);
    expect(state.latest(log.origin)?.size).toBe(15);
    expect(state.evidenceOf(log.origin).length).toBe(2);
  });

  it('cosigns the same checkpoint again, and refuses a fork of the same size or larger', async () => {
    expect((await add(log, 15)).status).toBe(200);
    const fork = log.fork(12).append(3, 'fork');
    const same = await add(fork, 15, 15, []);
    expect(same.status).toBe(409);
    expect(same.type).not.toBe(TLOG_SIZE_MEDIA_TYPE);
    fork.append(5, 'fork');
    expect((await add(fork, 15)).status).toBe(422);
    expect(state.latest(log.origin)?.size).toBe(15);
  });

  it('answers 404 for an unknown origin, 403 without a trusted signature, 400 for malformed requests', async () => {
    const other = await MemoryLog.create('log.test/other');
    other.append(3);
    expect((await add(other, 0)).status).toBe(404);
    // Same origin, another key: its signature is from an unknown key (ignored), so no trusted signature at all.
    const impostor = await MemoryLog.create(log.origin);
    impostor.append(20);
    expect((await add(impostor, 15)).status).toBe(403);
    // A known key name and ID but a wrong signature.
    const note = await log.checkpoint();
    const forged = note.replace(/ (\S)(\S*)\n$/, (_, c: string, rest: string) => ` ${c === 'A' ? 'B' : 'A'}${rest}\n`);
    expect((await post(formatAddCheckpointRequest({ oldSize: 15, proof: [], checkpoint: forged }))).status).toBe(403);
    // An extra signature from an unknown key is ignored.
    const stranger = await ed25519NoteSigner('stranger.test', randomBytes(32));
    const cosigned = await log.checkpoint(log.size, [log.signer, stranger]);
    expect((await post(formatAddCheckpointRequest({ oldSize: 15, proof: [], checkpoint: cosigned }))).status).toBe(200);
    expect((await add(log, 16, 15, [])).status).toBe(400); // old > size
    expect((await post('old 15\n\nnot a checkpoint\n')).status).toBe(400);
    expect((await post('garbage')).status).toBe(400);
    expect((await app.request('/add-checkpoint', { method: 'POST', body: 'x'.repeat(70_000) })).status).toBe(413);
  });

  it('keeps its state across a reopen', async () => {
    state.close();
    await open();
    expect(state.latest(log.origin)?.size).toBe(15);
    const res = await add(log, 0, log.size, []);
    expect(res.status).toBe(409);
    expect(res.text).toBe('15\n');
    const info = await (await app.request('/')).json();
    expect(info).toEqual({ witness: witness.vkey, logs: [{ origin: log.origin, size: 15 }] });
  });

  it('never rolls back under concurrent requests: one of two racing extensions wins, the other gets 409', async () => {
    log.append(40);
    const results = await Promise.all([20, 30, 40, 55].map((size) => add(log, 15, size, log.proof(15, size))));
    const statuses = results.map((r) => r.status).sort();
    expect(statuses.filter((s) => s === 200)).toHaveLength(1);
    expect(statuses.filter((s) => s === 409)).toHaveLength(3);
    const winner = [20, 30, 40, 55][results.findIndex((r) => r.status === 200)]!;
    expect(state.latest(log.origin)?.size).toBe(winner);
    for (const r of results) if (r.status === 409) expect(r.text).toBe(`${winner}\n`);
  });
});
