import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concatBytes, fromBase64, readUint64BE, toBase64, toHex, utf8 } from '../../src/core/bytes.js';
import { ed25519PublicKey, sha256, signEd25519, verifyEd25519 } from '../../src/core/crypto.js';
import { RegistryError } from '../../src/core/errors.js';
import {
  MAX_NOTE_SIGNATURES,
  SIG_TYPE_COSIGNATURE_V1,
  SIG_TYPE_ED25519,
  addSignatureLines,
  addSignatures,
  cosignatureSigner,
  cosignatureVerifier,
  ed25519NoteSigner,
  ed25519NoteVerifier,
  formatSignerKey,
  formatVerifierKey,
  noteKeyId,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  type NoteSigner,
} from '../../src/core/note.js';

interface GoVector {
  vkey: string;
  skey: string;
  text: string;
  signed_note: string;
}
const go = JSON.parse(
  readFileSync(new URL('../../../shared/vectors/note/go-sumdb-note.json', import.meta.url), 'utf8'),
) as GoVector;

const seedOf = (label: string) => sha256(utf8(label));

async function rejectsWith(p: Promise<unknown>, code: string): Promise<void> {
  const err: unknown = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RegistryError);
  expect((err as RegistryError).code).toBe(code);
}

function throwsWith(f: () => unknown, code: string): void {
  let err: unknown;
  try {
    f();
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(RegistryError);
  expect((err as RegistryError).code).toBe(code);
}

describe('golang.org/x/mod sumdb/note vector', () => {
  it('signing the text with the skey reproduces signed_note byte for byte', async () => {
    const signer = await parseSignerKey(go.skey);
    expect(signer.name).toBe('PeterNeumann');
    expect(signer.vkey).toBe(go.vkey);
    expect(await signNote(go.text, [signer])).toBe(go.signed_note);
    expect(formatSignerKey(signer.name, signer.seed)).toBe(go.skey);
  });

  it('the vkey verifies signed_note', async () => {
    const verifier = parseVerifierKey(go.vkey);
    expect(verifier.type).toBe(SIG_TYPE_ED25519);
    expect(formatVerifierKey(verifier.name, verifier.publicKey)).toBe(go.vkey);
    const opened = await openNote(go.signed_note, [verifier]);
    expect(opened.text).toBe(go.text);
    expect(opened.verified.map((s) => s.name)).toEqual(['PeterNeumann']);
    expect(opened.unverified).toEqual([]);
  });

  it('computes the key ID as SHA-256(name || 0x0A || 0x01 || pubkey)[:4]', () => {
    const verifier = parseVerifierKey(go.vkey);
    expect(toHex(noteKeyId('PeterNeumann', 1, verifier.publicKey))).toBe('c74f20a3');
    const manual = sha256(concatBytes(utf8('PeterNeumann\n'), new Uint8Array([1]), verifier.publicKey));
    expect(toHex(manual.slice(0, 4))).toBe('c74f20a3');
    // The type byte separates domains: the same key as a cosigner has another ID.
    expect(toHex(noteKeyId('PeterNeumann', 4, verifier.publicKey))).not.toBe('c74f20a3');
  });
});

describe('keys', () => {
  it('round-trips generated keys; base64 with "+" splits on the first separators only', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 32, maxLength: 32 }), async (seed) => {
        const skey = formatSignerKey('example.com/log', seed);
        const signer = await parseSignerKey(skey);
        expect(toHex(signer.seed)).toBe(toHex(seed));
        const verifier = parseVerifierKey(signer.vkey);
        expect(toHex(verifier.publicKey)).toBe(toHex(await ed25519PublicKey(seed)));
        expect(toHex(verifier.keyId)).toBe(toHex(signer.keyId));
      }),
      { numRuns: 30 },
    );
  });

  it('rejects malformed verifier keys', () => {
    const good = parseVerifierKey(go.vkey);
    const [name, id, key] = ['PeterNeumann', 'c74f20a3', go.vkey.slice('PeterNeumann+c74f20a3+'.length)];
    const raw = fromBase64(key);
    const bad = [
      '',
      name,
      `${name}+${id}`,
      `+${id}+${key}`, // empty name
      `Peter Neumann+${id}+${key}`, // space in name
      `${name}+C74F20A3+${key}`, // uppercase ID
      `${name}+c74f20a+${key}`, // short ID
      `${name}+c74f20a4+${key}`, // wrong ID
      `${name}+${id}+${key.slice(0, -1)}`, // bad base64
      `${name}+${id}+${toBase64(raw.subarray(0, 32))}`, // 31-byte key
      `${name}+${id}+${toBase64(concatBytes(new Uint8Array([2]), good.publicKey))}`, // ECDSA type
      `${name}+${id}+${toBase64(concatBytes(raw, new Uint8Array([0])))}`, // trailing byte
    ];
    for (const vkey of bad) throwsWith(() => parseVerifierKey(vkey), 'bad-request');
  });

  it('rejects malformed signer keys', async () => {
    await rejectsWith(parseSignerKey(go.skey.replace('PRIVATE+KEY+', '')), 'bad-request');
    await rejectsWith(parseSignerKey(go.skey.replace('c74f20a3', 'c74f20a4')), 'bad-request');
    await rejectsWith(parseSignerKey(go.vkey), 'bad-request');
  });

  it('rejects invalid key names', () => {
    for (const name of ['', 'a+b', 'a b', 'a\u00a0b', 'a\u3000b', 'a\nb', 'a\u0001b']) {
      throwsWith(() => formatVerifierKey(name, new Uint8Array(32)), 'bad-request');
    }
  });
});

describe('signNote and openNote', () => {
  const text = 'example.com/log\n3\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n';

  it('rejects texts that are empty, lack a final newline or contain control characters', async () => {
    const s = await ed25519NoteSigner('a', seedOf('a'));
    for (const t of ['', 'no newline', 'tab\there\n', 'cr\r\n', 'nul\u0000\n', 'lone \ud800 surrogate\n']) {
      await rejectsWith(signNote(t, [s]), 'bad-request');
    }
    await rejectsWith(signNote(text, []), 'bad-request');
  });

  it('accepts texts with empty lines and Unicode (the text ends at the last blank line)', async () => {
    const s = await ed25519NoteSigner('a', seedOf('a'));
    for (const t of ['\n', 'a\n\nb\n', 'a\n\n', 'Ognuno sta solo — sul cuor della terra\n\ned è subito sera.\n']) {
      const opened = await openNote(await signNote(t, [s]), [ed25519NoteVerifier('a', s.publicKey)]);
      expect(opened.text).toBe(t);
    }
  });

  it('verifies several signatures and reports unknown keys as unverified', async () => {
    const a = await ed25519NoteSigner('a.example/log', seedOf('a'));
    const b = await ed25519NoteSigner('b.example/log', seedOf('b'));
    const c = await ed25519NoteSigner('c.example/log', seedOf('c'));
    const note = await signNote(text, [a, b, c]);
    expect(note.split('\n— ').length).toBe(4);
    const opened = await openNote(note, [parseVerifierKey(a.vkey), parseVerifierKey(c.vkey)]);
    expect(opened.verified.map((s) => s.name)).toEqual(['a.example/log', 'c.example/log']);
    expect(opened.unverified.map((s) => s.name)).toEqual(['b.example/log']);
    expect(opened.signatures.length).toBe(3);
    expect(opened.signatures[0]!.line).toBe(note.split('\n')[4]);
  });

  it('ignores a signature sharing only the name or only the key ID with a known key', async () => {
    const a = await ed25519NoteSigner('a', seedOf('a'));
    const imposterSameName = await ed25519NoteSigner('a', seedOf('other'));
    const sameId: NoteSigner = { name: 'z', keyId: a.keyId, type: 1, sign: (t) => signEd25519(seedOf('z'), t) };
    const note = await signNote(text, [imposterSameName, sameId, a]);
    const opened = await openNote(note, [ed25519NoteVerifier('a', a.publicKey)]);
    expect(opened.verified.length).toBe(1);
    expect(opened.unverified.length).toBe(2);
  });

  it('rejects the whole note when a known key signature fails', async () => {
    const a = await ed25519NoteSigner('a', seedOf('a'));
    const b = await ed25519NoteSigner('b', seedOf('b'));
    // b's name and key ID, but a signature by another key.
    const forged: NoteSigner = { ...b, sign: (t) => signEd25519(seedOf('x'), t) };
    const note = await signNote(text, [a, forged]);
    await rejectsWith(openNote(note, [ed25519NoteVerifier('a', a.publicKey), ed25519NoteVerifier('b', b.publicKey)]), 'forbidden');
    // Only a is trusted: b's line is unknown and ignored.
    expect((await openNote(note, [ed25519NoteVerifier('a', a.publicKey)])).unverified.length).toBe(1);
  });

  it('rejects a note with no signature from a known key', async () => {
    const a = await ed25519NoteSigner('a', seedOf('a'));
    const b = await ed25519NoteSigner('b', seedOf('b'));
    await rejectsWith(openNote(await signNote(text, [a]), [ed25519NoteVerifier('b', b.publicKey)]), 'forbidden');
    await rejectsWith(openNote(await signNote(text, [a]), []), 'forbidden');
  });

  it('rejects a changed text', async () => {
    const a = await ed25519NoteSigner('a', seedOf('a'));
    const note = await signNote(text, [a]);
    await rejectsWith(openNote(note.replace('\n3\n', '\n4\n'), [ed25519NoteVerifier('a', a.publicKey)]), 'forbidden');
  });

  it('verifies repeated signatures from one key, reporting them once', async () => {
    const a = await ed25519NoteSigner('a', seedOf('a'));
    const note = await signNote(text, [a, a]);
    const opened = await openNote(note, [ed25519NoteVerifier('a', a.publicKey)]);
    expect(opened.signatures.length).toBe(2);
    expect(opened.verified.length).toBe(1);
    // A bad duplicate is still verified, and fails the note.
    const lines = note.split('\n');
    const sig = lines[5]!;
    const broken = sig.slice(0, -6) + (sig.slice(-6, -5) === 'A' ? 'B' : 'A') + sig.slice(-5);
    const tampered = [...lines.slice(0, 5), broken, ''].join('\n');
    await rejectsWith(openNote(tampered, [ed25519NoteVerifier('a', a.publicKey)]), 'forbidden');
  });

  it('refuses ambiguous verifiers (same name and key ID, different keys)', async () => {
    const a = await ed25519NoteSigner('a', seedOf('a'));
    const clash = { ...ed25519NoteVerifier('a', a.publicKey), publicKey: new Uint8Array(32) };
    await rejectsWith(openNote(await signNote(text, [a]), [ed25519NoteVerifier('a', a.publicKey), clash]), 'bad-request');
  });

  it('rejects malformed notes', async () => {
    const a = await ed25519NoteSigner('a', seedOf('a'));
    const v = [ed25519NoteVerifier('a', a.publicKey)];
    const note = await signNote(text, [a]);
    const sigLine = note.slice(text.length + 1, -1);
    const b64 = sigLine.slice('— a '.length);
    const malformed = [
      note.slice(0, -1), // no final newline
      text + sigLine + '\n', // no blank line
      text + '\n', // no signatures
      `${text}\n${sigLine}\n\n`, // trailing blank line
      `${text}\n-- a ${b64}\n`, // ASCII dashes
      `${text}\n—a ${b64}\n`, // no space after the dash
      `${text}\n— a${b64}\n`, // no space before the signature
      `${text}\n— a  ${b64}\n`, // two spaces
      `${text}\n— a+b ${b64}\n`, // plus in name
      `${text}\n— a ${b64.slice(0, -1)}\n`, // bad base64
      `${text}\n— a ${b64} \n`, // trailing space
      `${text}\n— a ${toBase64(new Uint8Array(4))}\n`, // key ID only
      `${text}\n${sigLine}\r\n`, // CR
      `x\ty\n\n${sigLine}\n`, // control character in text
    ];
    for (const m of malformed) await rejectsWith(openNote(m, v), 'bad-request');
  });

  it(`accepts up to ${MAX_NOTE_SIGNATURES} signature lines and rejects more`, async () => {
    const a = await ed25519NoteSigner('a', seedOf('a'));
    const v = [ed25519NoteVerifier('a', a.publicKey)];
    const note = await signNote(text, [a]);
    const unknown = `— other ${toBase64(new Uint8Array(68).fill(7))}\n`;
    const full = note + unknown.repeat(MAX_NOTE_SIGNATURES - 1);
    const opened = await openNote(full, v);
    expect(opened.signatures.length).toBe(MAX_NOTE_SIGNATURES);
    expect(opened.unverified.length).toBe(1); // identical unknown lines are reported once
    await rejectsWith(openNote(full + unknown, v), 'bad-request');
  });
});

describe('cosignature/v1', () => {
  const checkpoint = 'example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n';

  it('round-trips with its timestamp, and signs the spec message', async () => {
    const log = await ed25519NoteSigner('example.com/behind-the-sofa', seedOf('log'));
    const w = await cosignatureSigner('witness.example.com/w1', seedOf('w1'), () => 1679315147);
    expect(w.type).toBe(SIG_TYPE_COSIGNATURE_V1);
    const note = await addSignatures(await signNote(checkpoint, [log]), [w]);
    const opened = await openNote(note, [parseVerifierKey(log.vkey), parseVerifierKey(w.vkey)]);
    expect(opened.verified.map((s) => [s.name, s.timestamp])).toEqual([
      ['example.com/behind-the-sofa', undefined],
      ['witness.example.com/w1', 1679315147],
    ]);
    // Signature bytes: key ID (4) || timestamp (8, big-endian) || Ed25519 over the cosigned message.
    const raw = fromBase64(note.trimEnd().split('\n').at(-1)!.split(' ')[2]!);
    expect(raw.length).toBe(4 + 8 + 64);
    expect(toHex(raw.subarray(0, 4))).toBe(toHex(noteKeyId('witness.example.com/w1', 4, w.publicKey)));
    expect(readUint64BE(raw, 4)).toBe(1679315147);
    const message = utf8(`cosignature/v1\ntime 1679315147\n${checkpoint}`);
    expect(await verifyEd25519(w.publicKey, message, raw.subarray(12))).toBe(true);
  });

  it('fails when the timestamp is altered, and is not an Ed25519 (0x01) signature', async () => {
    const w = await cosignatureSigner('w', seedOf('w1'), () => 1000);
    const note = await signNote(checkpoint, [w]);
    const opened = await openNote(note, [cosignatureVerifier('w', w.publicKey)]);
    const sig = opened.verified[0]!.signature.slice();
    sig[7]! ^= 1;
    expect(await cosignatureVerifier('w', w.publicKey).verify(utf8(checkpoint), sig)).toBe(false);
    // The same key as a plain Ed25519 verifier has another key ID: the cosignature is unknown to it.
    await rejectsWith(openNote(note, [ed25519NoteVerifier('w', w.publicKey)]), 'forbidden');
  });

  it('rejects non-integer clocks and reads cosigner skeys', async () => {
    const w = await cosignatureSigner('w', seedOf('w1'), () => 1.5);
    await rejectsWith(signNote(checkpoint, [w]), 'bad-request');
    const skey = formatSignerKey('w', seedOf('w1'), SIG_TYPE_COSIGNATURE_V1);
    const parsed = await parseSignerKey(skey);
    expect(parsed.type).toBe(SIG_TYPE_COSIGNATURE_V1);
    const opened = await openNote(await signNote(checkpoint, [parsed]), [parseVerifierKey(parsed.vkey)]);
    expect(Math.abs(opened.verified[0]!.timestamp! - Date.now() / 1000)).toBeLessThan(60);
  });
});

describe('adding signatures', () => {
  const text = 'origin\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n';

  it('addSignatures appends and skips keys that already signed', async () => {
    const log = await ed25519NoteSigner('origin', seedOf('log'));
    const w1 = await cosignatureSigner('w1', seedOf('w1'), () => 5);
    const w2 = await cosignatureSigner('w2', seedOf('w2'), () => 6);
    const note = await signNote(text, [log]);
    const once = await addSignatures(note, [w1]);
    const twice = await addSignatures(once, [w1, w2]);
    expect(twice.startsWith(once)).toBe(true);
    expect(parseNote(twice).signatures.map((s) => s.name)).toEqual(['origin', 'w1', 'w2']);
    const opened = await openNote(twice, [
      ed25519NoteVerifier('origin', log.publicKey),
      cosignatureVerifier('w1', w1.publicKey),
      cosignatureVerifier('w2', w2.publicKey),
    ]);
    expect(opened.verified.map((s) => s.timestamp)).toEqual([undefined, 5, 6]);
  });

  it('addSignatureLines merges a witness response and refuses anything but signature lines', async () => {
    const log = await ed25519NoteSigner('origin', seedOf('log'));
    const w1 = await cosignatureSigner('w1', seedOf('w1'), () => 5);
    const note = await signNote(text, [log]);
    const response = (await signNote(text, [w1])).slice(text.length + 1); // "— w1 …\n"
    const merged = addSignatureLines(note, [response]);
    expect(merged).toBe(await addSignatures(note, [w1]));
    throwsWith(() => addSignatureLines(note, ['']), 'bad-request');
    throwsWith(() => addSignatureLines(note, ['', response]), 'bad-request');
    throwsWith(() => addSignatureLines(note, [response + response]), 'bad-request');
    throwsWith(() => addSignatureLines(note, ['— w1 !!!!']), 'bad-request');
  });
});
