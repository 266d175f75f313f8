// The verdict facts of the certificate rows (schema/tables.ts: key_id, event_count, state_at, state; the events'
// key_id and logged_at) on a real registry and SQLite file:
// - the verdict served from the row alone equals the full view's verdict (which decodes the entries) at every time;
// - on rows without the facts (an older writer's), the views replay the entries and serve the same verdicts;
// - migration 0002's backfill, run on those rows, computes exactly the facts the registry writes.
// Certificates cover every lifecycle: suspended, reinstated, revoked after a suspension, failed and passed audits,
// recertification, scope change, and documents signed with a key later revoked with an earlier compromise time.
import Database from 'better-sqlite3';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateIdOf, issuerIdOf, type StatusEventKind } from '../../src/core/credential.js';
import { signDataIntegrity } from '../../src/core/data-integrity.js';
import type { JsonObject } from '../../src/core/json.js';
import type { Verdict } from '../../src/core/verdict.js';
import { createNodeRegistry, logOriginFor } from '../../src/node.js';
import type { Actor } from '../../src/registry/registry.js';
import { newCbKey, type CbKey } from '../support/client.js';
import { exampleCertificate, exampleStatusEvent, type Overrides } from '../support/examples.js';
import { tempDir } from '../support/registry.js';

const BASE_URL = 'http://certrail.test';
const SLUG = 'facts-cb';
const DAY = 24 * 60 * 60 * 1000;
const YEAR = 365 * DAY;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const MIGRATION = join(import.meta.dirname, '..', '..', 'schema', 'migrations', '0002_verdict_facts.sql');

type Step = { kind: StatusEventKind; key?: 'a' | 'b'; overrides?: Overrides };

/** Certificate number → the key it is issued with and its events, in order. */
const PLAN: Record<string, { key: 'a' | 'b'; events: Step[] }> = {
  'F-PLAIN': { key: 'a', events: [] },
  'F-SUSPENDED': { key: 'a', events: [{ kind: 'suspended' }] },
  'F-REINSTATED': { key: 'a', events: [{ kind: 'suspended' }, { kind: 'reinstated' }] },
  'F-REVOKED': { key: 'a', events: [{ kind: 'suspended' }, { kind: 'reinstated' }, { kind: 'suspended', overrides: { reason: 'Second suspension.' } }, { kind: 'revoked' }] },
  'F-AUDITS': {
    key: 'a',
    events: [
      { kind: 'surveillance-audit', overrides: { audit: { outcome: 'failed', nextDueBy: iso(Date.now() + 10 * DAY) } } },
      { kind: 'surveillance-audit', overrides: { audit: { outcome: 'passed', nextDueBy: iso(Date.now() + 20 * DAY) } } },
      { kind: 'recertified', overrides: { validUntil: iso(Date.now() + 4 * YEAR) } },
      { kind: 'scope-changed' },
      { kind: 'surveillance-audit', overrides: { audit: { outcome: 'failed', nextDueBy: iso(Date.now() + 400 * DAY) } } },
    ],
  },
  // Documents under key b, which is revoked below with a compromise time between these events.
  'F-KEY-B': { key: 'b', events: [{ kind: 'surveillance-audit', key: 'b' }] },
  'F-EVENT-B': { key: 'a', events: [{ kind: 'scope-changed', key: 'b' }, { kind: 'suspended', key: 'a' }] },
};

describe('verdict facts in the certificate rows', () => {
  const dir = tempDir('certrail-facts-');
  const dbPath = join(dir.path, 'certrail.db');
  let node: Awaited<ReturnType<typeof createNodeRegistry>>;
  const keys: Record<'a' | 'b', CbKey> = {} as never;
  let tokens = 0;
  const actor = (issuer: string, keyId: string): Actor => ({ issuer, keyId, jti: `jti-${++tokens}`, expiresAt: Date.now() + 120_000 });
  /** The times each certificate is judged at: its entries' loggedAt, just before them, now and years on. */
  const times = new Map<string, number[]>();
  /** "Now" for every comparison, after the last entry. */
  let now = 0;

  const sign = (key: CbKey, document: JsonObject) =>
    signDataIntegrity(document, { seed: key.seed, verificationMethod: `${issuerIdOf(BASE_URL, SLUG)}#${key.keyId}`, created: new Date().toISOString() });

  beforeAll(async () => {
    node = await createNodeRegistry({ dbPath, keyDir: join(dir.path, 'keys'), baseUrl: BASE_URL, logOrigin: logOriginFor(BASE_URL), maxDelayMs: 0 });
    keys.a = await newCbKey(SLUG, 'key-a');
    keys.b = await newCbKey(SLUG, 'key-b');
    await node.registry.registerIssuer(actor('registry', 'registry'), {
      slug: SLUG,
      name: 'Facts Certification GmbH',
      managedSigning: false,
      keys: [keys.a, keys.b].map((k) => ({ keyId: k.keyId, publicKeyMultibase: k.publicKeyMultibase })),
    });
    let compromisedAt = 0;
    for (const [number, plan] of Object.entries(PLAN)) {
      const id = certificateIdOf(BASE_URL, SLUG, number);
      const credential = await sign(keys[plan.key], exampleCertificate(BASE_URL, SLUG, number, { validUntil: iso(Date.now() + 2 * YEAR) }));
      let head = await node.registry.issueCertificate(actor(SLUG, keys[plan.key].keyId), credential);
      const at = [head.loggedAt - 1, head.loggedAt];
      for (const step of plan.events) {
        const key = keys[step.key ?? 'a'];
        const event = exampleStatusEvent(id, step.kind, { previous: { index: head.index, leafHash: head.leafHash }, ...step.overrides });
        head = await node.registry.recordEvent(actor(SLUG, key.keyId), SLUG, number, await sign(key, event));
        at.push(head.loggedAt - 1, head.loggedAt);
        // Key b is compromised from just after the first document it signed.
        if (number === 'F-KEY-B' && compromisedAt === 0) compromisedAt = head.loggedAt + 1;
      }
      times.set(number, at);
    }
    await new Promise((resolve) => setTimeout(resolve, 5));
    await node.registry.revokeIssuerKey(actor('registry', 'registry'), SLUG, 'key-b', 'Key leaked.', new Date(compromisedAt).toISOString());
    now = Date.now();
  });

  afterAll(async () => {
    await node.close();
    dir.remove();
  });

  /** Every certificate's verdict (row path) and full-view verdict at each of its times. */
  async function verdicts(): Promise<Record<string, Array<{ at: number; verdict: Verdict; full: Verdict }>>> {
    const out: Record<string, Array<{ at: number; verdict: Verdict; full: Verdict }>> = {};
    for (const number of Object.keys(PLAN)) {
      out[number] = [];
      for (const at of [...times.get(number)!, now, now + 5 * YEAR]) {
        const found = await node.views.verdict(SLUG, number, at);
        const view = await node.views.certificate(SLUG, number, at);
        expect(found).not.toBeNull();
        out[number].push({ at, verdict: found!.verdict, full: view!.verdict });
      }
    }
    return out;
  }

  function readFacts(db: Database.Database) {
    const certificates = db
      .prepare('SELECT issuer, number, key_id, event_count, state_at, state FROM certificates ORDER BY issued_index')
      .all() as Array<{ state: string | null }>;
    const events = db.prepare('SELECT idx, key_id, logged_at FROM certificate_events ORDER BY idx').all();
    return { certificates: certificates.map((c) => ({ ...c, state: c.state === null ? null : JSON.parse(c.state) })), events };
  }

  it('serves from the row the same verdict as the full view, at every time', async () => {
    const served = await verdicts();
    for (const [number, list] of Object.entries(served)) {
      for (const { at, verdict, full } of list) expect(verdict, `${number} at ${iso(at)}`).toEqual(full);
    }
    const latest = (number: string) => served[number]!.at(-1)!.verdict;
    expect(latest('F-PLAIN').checks.filter((c) => !c.ok).map((c) => c.name)).not.toContain('signature');
    expect(latest('F-REVOKED').status).toBe('revoked');
    expect(latest('F-SUSPENDED').status).toBe('suspended');
    // Key b was compromised after F-KEY-B's first event: the certificate it signed before stays authentic, the
    // event it signed after the compromise time (F-EVENT-B's scope change) does not.
    const failing = (number: string) => latest(number).checks.filter((c) => !c.ok).map((c) => c.name);
    expect(failing('F-KEY-B')).not.toContain('issuer-key');
    expect(failing('F-EVENT-B')).toContain('events');
    expect(latest('F-EVENT-B').checks.find((c) => c.name === 'events')?.detail).toMatch(/compromised/);
  });

  it('replays the entries for rows without the facts, and migration 0002 backfills exactly what the registry writes', async () => {
    const before = await verdicts();
    const db = new Database(dbPath);
    try {
      const written = readFacts(db);
      expect(written.certificates.every((c) => c.state !== null)).toBe(true);
      db.exec('UPDATE certificates SET key_id = NULL, event_count = NULL, state_at = NULL, state = NULL');
      db.exec('UPDATE certificate_events SET key_id = NULL, logged_at = NULL');
      expect(await verdicts(), 'verdicts replayed from the entries').toEqual(before);

      const backfill = readFileSync(MIGRATION, 'utf8')
        .split('--> statement-breakpoint')
        .map((statement) => statement.trim())
        .filter((statement) => !statement.startsWith('ALTER TABLE'));
      expect(backfill).toHaveLength(2);
      for (const statement of backfill) db.exec(statement);
      expect(readFacts(db)).toEqual(written);
    } finally {
      db.close();
    }
    expect(await verdicts(), 'verdicts from the backfilled rows').toEqual(before);
  });
});
