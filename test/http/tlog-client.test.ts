// An independent C2SP client following the log over real HTTP on loopback. It shares no code with src/core: hashing
// and Ed25519 come from node:crypto, tile paths and the Merkle root are computed here from the specs, so a bug in the
// server's core cannot hide behind the same bug in the client.
import { createHash, createPublicKey, verify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return new Uint8Array(h.digest());
};
const leaf = (entry: Uint8Array) => sha256(Uint8Array.of(0), entry);
const node = (l: Uint8Array, r: Uint8Array) => sha256(Uint8Array.of(1), l, r);

/** RFC 9162 §2.1.1 MTH, recursively, from leaf hashes. */
function mth(hashes: Uint8Array[]): Uint8Array {
  if (hashes.length === 0) return sha256();
  if (hashes.length === 1) return hashes[0]!;
  let k = 1;
  while (k * 2 < hashes.length) k *= 2;
  return node(mth(hashes.slice(0, k)), mth(hashes.slice(k)));
}

/** C2SP tlog-tiles path of tile index n: 3-digit groups, all but the last prefixed with x. */
function tileIndexPath(n: number): string {
  const digits = String(n).padStart(3, '0');
  const padded = digits.padStart(Math.ceil(digits.length / 3) * 3, '0');
  const groups = padded.match(/.{3}/g)!;
  return groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join('/');
}

/** Verifies a C2SP signed note against one Ed25519 vkey and returns the checkpoint fields. */
function openCheckpoint(note: string, vkey: string) {
  // name+hexid+base64: the base64 may itself contain '+', so split on the first two separators only.
  const name = vkey.slice(0, vkey.indexOf('+'));
  const hexId = vkey.slice(name.length + 1, name.length + 9);
  const keyB64 = vkey.slice(name.length + 10);
  const key = Buffer.from(keyB64!, 'base64');
  expect(key[0]).toBe(1);
  const split = note.lastIndexOf('\n\n');
  const text = note.slice(0, split + 1);
  const lines = note.slice(split + 2).split('\n').filter(Boolean);
  const ours = lines.find((l) => l.startsWith(`— ${name} `));
  expect(ours).toBeDefined();
  const sig = Buffer.from(ours!.slice(`— ${name} `.length), 'base64');
  expect(sig.subarray(0, 4).toString('hex')).toBe(hexId);
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: key.subarray(1).toString('base64url') }, format: 'jwk' });
  expect(verify(null, Buffer.from(text), publicKey, sig.subarray(4))).toBe(true);
  const [origin, size, root] = text.split('\n');
  return { origin: origin!, size: Number(size), root: new Uint8Array(Buffer.from(root!, 'base64')) };
}

async function getBytes(url: string): Promise<Uint8Array> {
  const res = await fetch(url);
  expect(res.status, url).toBe(200);
  return new Uint8Array(await res.arrayBuffer());
}

describe('an independent tlog client follows the log', () => {
  const dir = tempDir();
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(dir.path);
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  async function appendMany(count: number, tag: string) {
    const acks = await Promise.all(
      Array.from({ length: count }, (_, i) => server.sequencer.append(new TextEncoder().encode(`${tag} entry ${i}`))),
    );
    return acks;
  }

  /** Fetches all entry bundles and level-0 hash tiles of a tree, checks they agree, and returns the leaf hashes. */
  async function leafHashes(size: number): Promise<Uint8Array[]> {
    const hashes: Uint8Array[] = [];
    for (let n = 0; n * 256 < size; n++) {
      const width = Math.min(256, size - n * 256);
      const suffix = width < 256 ? `.p/${width}` : '';
      const tile = await getBytes(`${server.url}/log/tile/0/${tileIndexPath(n)}${suffix}`);
      const bundle = await getBytes(`${server.url}/log/tile/entries/${tileIndexPath(n)}${suffix}`);
      expect(tile.length).toBe(width * 32);
      let offset = 0;
      for (let i = 0; i < width; i++) {
        const length = (bundle[offset]! << 8) | bundle[offset + 1]!;
        const entry = bundle.subarray(offset + 2, offset + 2 + length);
        offset += 2 + length;
        const h = leaf(entry);
        expect(Buffer.from(h).equals(Buffer.from(tile.subarray(i * 32, i * 32 + 32)))).toBe(true);
        hashes.push(h);
      }
      expect(offset).toBe(bundle.length);
    }
    return hashes;
  }

  it('verifies checkpoints, rebuilds roots from tiles and checks consistency across appends', async () => {
    const wellKnown = (await (await fetch(`${server.url}/.well-known/certrail`)).json()) as { logVerifierKey: string; origin: string };
    await appendMany(700, 'first');
    const first = openCheckpoint(await (await fetch(`${server.url}/log/checkpoint`)).text(), wellKnown.logVerifierKey);
    expect(first.origin).toBe(wellKnown.origin);
    expect(first.size).toBe(700);
    const firstLeaves = await leafHashes(first.size);
    expect(Buffer.from(mth(firstLeaves)).equals(Buffer.from(first.root))).toBe(true);

    // A level-1 tile holds the roots of full level-0 tiles.
    const level1 = await getBytes(`${server.url}/log/tile/1/000.p/2`);
    for (let t = 0; t < 2; t++) {
      expect(Buffer.from(level1.subarray(t * 32, t * 32 + 32)).equals(Buffer.from(mth(firstLeaves.slice(t * 256, t * 256 + 256))))).toBe(true);
    }

    await appendMany(333, 'second');
    const second = openCheckpoint(await (await fetch(`${server.url}/log/checkpoint`)).text(), wellKnown.logVerifierKey);
    expect(second.size).toBe(1033);
    const secondLeaves = await leafHashes(second.size);
    expect(Buffer.from(mth(secondLeaves)).equals(Buffer.from(second.root))).toBe(true);
    expect(secondLeaves.slice(0, first.size).every((h, i) => Buffer.from(h).equals(Buffer.from(firstLeaves[i]!)))).toBe(true);

    // Consistency proof (RFC 9162 §2.1.4.2), verified with this client's own code.
    const res = await fetch(`${server.url}/log/proof/consistency?from=${first.size}&to=${second.size}`);
    const { proof } = (await res.json()) as { proof: string[] };
    expect(verifyConsistency(first.size, second.size, first.root, second.root, proof.map((p) => new Uint8Array(Buffer.from(p, 'base64'))))).toBe(true);
    const tampered = proof.map((p) => new Uint8Array(Buffer.from(p, 'base64')));
    tampered[0]![0]! ^= 1;
    expect(verifyConsistency(first.size, second.size, first.root, second.root, tampered)).toBe(false);
  });

  it('serves full tiles as immutable and refuses tiles beyond the tree', async () => {
    const full = await fetch(`${server.url}/log/tile/0/000`);
    expect(full.headers.get('cache-control')).toContain('immutable');
    expect(full.headers.get('content-type')).toBe('application/octet-stream');
    const checkpoint = await fetch(`${server.url}/log/checkpoint`);
    expect(checkpoint.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(checkpoint.headers.get('cache-control')).toMatch(/max-age=\d$/);
    const beyond = await fetch(`${server.url}/log/tile/0/x001/000`);
    expect(beyond.status).toBe(404);
    expect(beyond.headers.get('content-type')).toBe('application/problem+json');
    for (const bad of ['/log/tile/0/0001', '/log/tile/0/001.p/0', '/log/tile/0/001.p/256', '/log/tile/99/000', '/log/tile/0/../000', '/log/tile/entries/x1/000']) {
      const res = await fetch(`${server.url}${bad}`);
      expect(res.status, bad).toBe(400);
    }
    for (const q of ['from=0&to=5', 'from=5&to=4', 'from=1&to=999999999', 'from=-1&to=3', 'from=01&to=3', 'from=1&to=9007199254740993', 'from=a&to=2', 'to=3']) {
      const res = await fetch(`${server.url}/log/proof/consistency?${q}`);
      expect(res.status, q).toBe(400);
      expect(((await res.json()) as { code: string }).code).toBe('bad-range');
    }
  });
});

/** RFC 9162 §2.1.4.2, written independently of src/core. */
function verifyConsistency(first: number, second: number, firstRoot: Uint8Array, secondRoot: Uint8Array, proof: Uint8Array[]): boolean {
  if (first === second) return proof.length === 0 && Buffer.from(firstRoot).equals(Buffer.from(secondRoot));
  const path = [...proof];
  let fn = first - 1;
  let sn = second - 1;
  if ((first & (first - 1)) === 0) path.unshift(firstRoot);
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0]!;
  let sr = path[0]!;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = node(c, fr);
      sr = node(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn = Math.floor(fn / 2);
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = node(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.from(fr).equals(Buffer.from(firstRoot)) && Buffer.from(sr).equals(Buffer.from(secondRoot));
}
