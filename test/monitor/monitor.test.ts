// The monitor against logs built entry by entry (the real Sequencer, tiles and log routes, in process), including
// hostile ones: every anomaly it names is provoked here, and a clean log passes, incrementally.
import { join } from 'node:path';
import { Hono } from 'hono';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64, toHex } from '../../src/core/bytes.js';
import { formatCheckpoint } from '../../src/core/checkpoint.js';
import { issuerIdOf, verificationMethodOf } from '../../src/core/credential.js';
import { ed25519PublicKey, randomBytes } from '../../src/core/crypto.js';
import { signDataIntegrity } from '../../src/core/data-integrity.js';
import { encodeEntry, type EntryKind } from '../../src/core/entry.js';
import type { JsonObject } from '../../src/core/json.js';
import { leafHash } from '../../src/core/merkle.js';
import { encodeMultikey } from '../../src/core/multibase.js';
import { cosignatureSigner, ed25519NoteSigner, signNote } from '../../src/core/note.js';
import { logRoutes } from '../../src/http/log-routes.js';
import { LogReader } from '../../src/log/reader.js';
import { Sequencer } from '../../src/log/sequencer.js';
import { runMonitor, type MonitorReport } from '../../src/monitor/monitor.js';
import { MonitorStore } from '../../src/monitor/store.js';
import { createSqliteLogStore, openSqlite } from '../../src/store/sqlite.js';
import { exampleCertificate, exampleStatusEvent } from '../support/examples.js';
import { tempDir } from '../support/registry.js';

const BASE = 'https://certrail.example.org';
const ORIGIN = 'certrail.example.org/log';
const SLUG = 'acme-cert';
const ISSUER = issuerIdOf(BASE, SLUG);
const DAY = 24 * 3600 * 1000;

/** A log whose entries the test writes itself, served by the real log routes, reached through an in-process fetch. */
class TestLog {
  readonly cbSeed = randomBytes(32);
  loggedAt = Date.UTC(2026, 0, 1);
  entries: Uint8Array[] = [];
  /** Rewrites responses: (path, body) → body. */
  tamper: ((path: string, body: Uint8Array) => Uint8Array) | null = null;
  app = new Hono();

  private constructor(
    readonly sequencer: Sequencer,
    readonly vkey: string,
    readonly registryKey: string,
    readonly logSeed: Uint8Array,
    readonly registrySeed: Uint8Array,
  ) {}

  static async create(dir: string): Promise<TestLog> {
    const handle = openSqlite(join(dir, 'log.db'));
    const store = createSqliteLogStore(handle);
    const logSeed = randomBytes(32);
    const signer = await ed25519NoteSigner(ORIGIN, logSeed);
    const sequencer = await Sequencer.open({ store, signer, origin: ORIGIN, maxDelayMs: 1 });
    const registrySeed = randomBytes(32);
    const log = new TestLog(sequencer, signer.vkey, encodeMultikey(await ed25519PublicKey(registrySeed)), logSeed, registrySeed);
    const reader = new LogReader(store, async () => sequencer.checkpoint);
    log.app.get('/.well-known/certrail', (c) => c.json({ origin: ORIGIN, logVerifierKey: log.vkey, registryKey: log.registryKey }));
    log.app.route('/log', logRoutes(reader));
    return log;
  }

  fetch: typeof fetch = async (input, init) => {
    const url = new URL(typeof input === 'string' ? input : input instanceof URL ? input.href : input.url);
    const res = await this.app.request(`${url.pathname}${url.search}`, init);
    if (!this.tamper || res.status !== 200) return res;
    const body = this.tamper(url.pathname, new Uint8Array(await res.arrayBuffer()));
    return new Response(body as Uint8Array<ArrayBuffer>, { status: 200, headers: res.headers });
  };

  async append(kind: EntryKind, body: JsonObject, loggedAt = (this.loggedAt += 1000)): Promise<{ index: number; leafHash: string }> {
    const bytes = encodeEntry(kind, loggedAt, body);
    const { index } = await this.sequencer.append(bytes);
    this.entries[index] = bytes;
    return { index, leafHash: toHex(leafHash(bytes)) };
  }

  asRegistry(document: JsonObject, seed = this.registrySeed): Promise<JsonObject> {
    return signDataIntegrity(document, { seed, verificationMethod: `${BASE}/.well-known/certrail#registry` });
  }

  asIssuer(document: JsonObject, keyId = 'key-1', seed = this.cbSeed): Promise<JsonObject> {
    return signDataIntegrity(document, { seed, verificationMethod: verificationMethodOf(ISSUER, keyId) });
  }

  async registerIssuer(): Promise<void> {
    await this.append('issuer.registered', await this.asRegistry({ type: 'IssuerRegistration', id: ISSUER, name: 'ACME', managedSigning: false }));
    const publicKeyMultibase = encodeMultikey(await ed25519PublicKey(this.cbSeed));
    await this.append('issuer.key.added', await this.asRegistry({ type: 'IssuerKeyAdded', issuer: ISSUER, keyId: 'key-1', publicKeyMultibase }));
  }

  async issue(number: string, seed = this.cbSeed): Promise<{ index: number; leafHash: string }> {
    return this.append('certificate.issued', await this.asIssuer(exampleCertificate(BASE, SLUG, number), 'key-1', seed));
  }

  async event(number: string, previous: { index: number; leafHash: string }, kind: 'suspended' | 'reinstated' = 'suspended') {
    const certificate = `${BASE}/v/${SLUG}/${number}`;
    return this.append('certificate.event', await this.asIssuer(exampleStatusEvent(certificate, kind, { previous })));
  }
}

const kinds = (report: MonitorReport) => report.anomalies.map((a) => a.kind);

describe('certrail monitor', () => {
  const dir = tempDir('certrail-monitor-');
  let log: TestLog;
  const monitor = (name: string, extra: Partial<Parameters<typeof runMonitor>[0]> = {}) =>
    runMonitor({ url: 'http://log.test', dbPath: join(dir.path, `${name}.db`), fetch: log.fetch, ...extra });

  beforeAll(async () => {
    log = await TestLog.create(dir.path);
  });
  afterAll(() => dir.remove());

  it('mirrors and verifies a clean log, then only what is new', async () => {
    await log.registerIssuer();
    const issued = await log.issue('C-1');
    const e1 = await log.event('C-1', issued);
    await log.event('C-1', e1, 'reinstated');
    for (let i = 2; i <= 300; i++) await log.issue(`C-${i}`); // more than one tile
    await log.sequencer.flush();
    const first = await monitor('clean');
    expect(first.anomalies).toEqual([]);
    expect(first.ok).toBe(true);
    expect(first.newEntries).toBe(304);
    expect(first.size).toBe(304);
    expect(first.totals).toEqual({ entries: 304, issuers: 1, keysAdded: 1, keysRevoked: 0, certificates: 300, events: 2 });

    const again = await monitor('clean');
    expect(again.ok).toBe(true);
    expect(again.newEntries).toBe(0);

    const head = await log.issue('C-301');
    await log.event('C-301', head);
    const third = await monitor('clean');
    expect(third.ok).toBe(true);
    expect(third.previousSize).toBe(304);
    expect(third.newEntries).toBe(2);
    expect(third.totals.entries).toBe(306);
    // The mirror holds what the log holds.
    const store = MonitorStore.open(join(dir.path, 'clean.db'));
    expect(store.entries(0, 400).map(toHex)).toEqual(log.entries.map(toHex));
    store.close();
  });

  it('reports bad signatures, broken chains, keys outside their validity and unknown certificates', async () => {
    const start = log.sequencer.checkpoint.size;
    const forged = await log.issue('X-1', randomBytes(32)); // signed with a key that is not key-1
    const good = await log.issue('X-2');
    const broken = await log.event('X-2', { index: good.index - 1, leafHash: good.leafHash }); // names the wrong entry
    const unknown = await log.event('X-404', good);
    const badIssuerEntry = await log.append(
      'issuer.key.added',
      await log.asRegistry({ type: 'IssuerKeyAdded', issuer: ISSUER, keyId: 'key-2', publicKeyMultibase: encodeMultikey(await ed25519PublicKey(randomBytes(32))) }, randomBytes(32)),
    );
    await log.append('issuer.key.revoked', await log.asRegistry({ type: 'IssuerKeyRevoked', issuer: ISSUER, keyId: 'key-1', reason: 'Rotated.' }));
    const afterRevocation = await log.issue('X-3');
    const backwards = await log.append('certificate.issued', await log.asIssuer(exampleCertificate(BASE, SLUG, 'X-4')), log.loggedAt - 10 * DAY);
    const notAnEntry = (await log.sequencer.append(new TextEncoder().encode('{"hello":"world"}'))).index;
    await log.sequencer.flush();

    const report = await monitor('clean');
    expect(report.ok).toBe(false);
    expect(report.previousSize).toBe(start);
    const at = (index: number) => report.anomalies.filter((a) => a.index === index).map((a) => a.kind);
    expect(at(forged.index)).toEqual(['bad-signature']);
    expect(at(good.index)).toEqual([]);
    expect(at(broken.index)).toEqual(['broken-chain']);
    expect(at(unknown.index)).toEqual(['unknown-certificate']);
    expect(at(badIssuerEntry.index)).toEqual(['bad-signature']);
    expect(at(afterRevocation.index)).toEqual(['key-invalid']);
    expect(at(backwards.index)).toEqual(['time-backwards', 'key-invalid']);
    expect(at(notAnEntry)).toEqual(['malformed-entry']);
    expect(report.anomalies.find((a) => a.kind === 'key-invalid')?.detail).toMatch(/key key-1 was revoked at/);
    // Entry anomalies do not stop the mirror: the tree itself is sound and was verified.
    expect(report.size).toBe(log.sequencer.checkpoint.size);
    const store = MonitorStore.open(join(dir.path, 'clean.db'));
    expect(store.anomalyCount()).toBe(report.anomalies.length);
    store.close();
  });

  it('reports entry bundles that do not match the hash tiles', async () => {
    log.tamper = (path, body) => {
      if (!path.startsWith('/log/tile/entries/000')) return body;
      const copy = body.slice();
      copy[copy.length - 5]! ^= 1; // a byte inside the last entry of the first bundle
      return copy;
    };
    try {
      const report = await monitor('tampered-entries');
      expect(kinds(report)).toEqual(['tile-mismatch']);
      expect(report.anomalies[0]!.detail).toMatch(/hash tile 0\/0 does not hold the leaf hash of entry 255/);
      expect(report.size).toBe(0);
    } finally {
      log.tamper = null;
    }
  });

  it('halts when the entries do not reproduce the signed root', async () => {
    const size = log.sequencer.checkpoint.size;
    const signer = await ed25519NoteSigner(ORIGIN, log.logSeed);
    const lie = await signNote(formatCheckpoint({ origin: ORIGIN, size, root: randomBytes(32), extensions: [] }), [signer]);
    log.tamper = (path, body) => (path === '/log/checkpoint' ? new TextEncoder().encode(lie) : body);
    try {
      const report = await monitor('lie');
      expect(kinds(report)).toContain('root-mismatch');
      // From an empty mirror the analysis does not know key-1 yet: the main thread verifies those signatures.
      expect(kinds(report).filter((k) => k === 'bad-signature')).toHaveLength(2);
      const again = await monitor('lie');
      expect(kinds(again)).toEqual(['halted']);
    } finally {
      log.tamper = null;
    }
  });

  it('reports a checkpoint not signed by the log key, and a cosignature that does not verify', async () => {
    const other = await ed25519NoteSigner(ORIGIN, randomBytes(32));
    const c = log.sequencer.checkpoint;
    const forged = await signNote(formatCheckpoint({ origin: ORIGIN, size: c.size, root: c.root, extensions: [] }), [other]);
    log.tamper = (path, body) => (path === '/log/checkpoint' ? new TextEncoder().encode(forged) : body);
    try {
      expect(kinds(await monitor('forged', { logKey: log.vkey }))).toEqual(['bad-checkpoint']);
    } finally {
      log.tamper = null;
    }
    const witness = await cosignatureSigner('witness.test/w', randomBytes(32), () => Math.floor(Date.now() / 1000));
    const impostor = await cosignatureSigner('witness.test/w', randomBytes(32), () => Math.floor(Date.now() / 1000));
    // The witness's name and key ID, someone else's signature bytes.
    const bad = (await signNote(formatCheckpoint({ origin: ORIGIN, size: c.size, root: c.root, extensions: [] }), [impostor])).split('\n').at(-2)!;
    const line = `\u2014 witness.test/w ${toBase64(new Uint8Array([...witness.keyId, ...Buffer.from(bad.split(' ').at(-1)!, 'base64').subarray(4)]))}`;
    log.tamper = (path, body) => (path === '/log/checkpoint' ? new TextEncoder().encode(`${c.note}${line}\n`) : body);
    try {
      // The same checks without worker threads.
      const report = await monitor('cosigned', { witnesses: [witness.vkey], quorum: 1, workers: 0 });
      expect(kinds(report)).toContain('bad-cosignature');
      expect(kinds(report).filter((k) => k === 'bad-signature')).toHaveLength(2);
      expect(kinds(report).filter((k) => k === 'broken-chain')).toHaveLength(1);
      expect(report.warnings.join('\n')).toMatch(/carries 0 of the 1 cosignatures/);
    } finally {
      log.tamper = null;
    }
  });
});
