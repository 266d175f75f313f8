// Witnessing end to end on loopback: two real `certrail witness` processes, registries in process (real SQLite files,
// real HTTP), and `certrail monitor` as a real process.
//
// - The registry asks both witnesses after each checkpoint; the served checkpoint carries both cosignatures; bundles
//   verify under the 2-of-2 policy published at /.well-known/certrail, and fail under it while one witness is down.
// - A fork (a second registry with the same key and origin, from an older copy of the database, that diverges) and a
//   rollback (the registry restarted on an older copy of its database) are refused by the witnesses (409 or 422) and
//   reported by the monitor (exit code 1).
import Database from 'better-sqlite3';
import { cpSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadOrCreateKeyFile } from '../../src/cli/keyfile.js';
import { parseBundle, verifyBundle, type TrustPolicy } from '../../src/core/bundle.js';
import { parseCheckpoint } from '../../src/core/checkpoint.js';
import { parseJsonStrict } from '../../src/core/json.js';
import { parseNote } from '../../src/core/note.js';
import { formatAddCheckpointRequest, TLOG_SIZE_MEDIA_TYPE } from '../../src/core/tlog-witness.js';
import { logOriginFor } from '../../src/node.js';
import { call, newCbKey, registerCb, signAs, type CbKey } from '../support/client.js';
import { exampleCertificate } from '../support/examples.js';
import { runCertrail, startWitnessProcess, type WitnessProcess } from '../support/processes.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';

const year = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const BASE_URL = 'http://certrail.test';

interface WellKnown {
  logVerifierKey: string;
  registryKey: string;
  witnesses: Array<{ vkey: string; url: string }>;
  quorum: number;
}

describe('a registry with two witnesses', () => {
  const dir = tempDir('certrail-witnessed-');
  const witnesses: WitnessProcess[] = [];
  const servers: TestServer[] = [];
  let a: TestServer;
  let cb: CbKey;
  let wellKnown: WellKnown;
  let policy: TrustPolicy;
  let snapshot = '';
  const monitorDb = join(dir.path, 'monitor.db');

  async function startRegistry(name: string, from?: string): Promise<TestServer> {
    const path = join(dir.path, name);
    mkdirSync(path, { recursive: true });
    if (from) {
      cpSync(join(dir.path, 'keys'), join(path, 'keys'), { recursive: true });
      cpSync(from, join(path, 'certrail.db'));
    }
    const server = await startTestServer(path, {
      keyDir: join(dir.path, from ? `${name}/keys` : 'keys'),
      witnesses: witnesses.map((w) => ({ url: w.url, vkey: w.vkey })),
      witnessQuorum: 2,
      witnessRetryMs: 100,
      witnessTimeoutMs: 2000,
    });
    servers.push(server);
    return server;
  }

  async function issue(server: TestServer, number: string): Promise<number> {
    const now = Date.now();
    const credential = await signAs(server, cb, exampleCertificate(BASE_URL, 'acme-cert', number, {
      validFrom: iso(now - year),
      validUntil: iso(now + year),
      credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + year / 2) } } },
    }));
    const res = await call(server, 'POST', '/api/v1/certificates', { key: cb, body: credential });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    return res.body.index as number;
  }

  async function checkpointOf(server: TestServer): Promise<{ note: string; size: number; cosignatures: number }> {
    const note = await (await fetch(`${server.url}/log/checkpoint`)).text();
    const parsed = parseNote(note);
    return { note, size: parseCheckpoint(parsed.text).size, cosignatures: parsed.signatures.length - 1 };
  }

  /** Waits until the served checkpoint has `size` entries and at least `count` cosignatures. */
  async function cosigned(server: TestServer, size: number, count: number): Promise<string> {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const c = await checkpointOf(server);
      if (c.size === size && c.cosignatures >= count) return c.note;
      if (Date.now() > deadline) throw new Error(`checkpoint ${c.size} with ${c.cosignatures} cosignatures; waited for ${size} with ${count}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function bundle(server: TestServer, number: string) {
    const res = await fetch(`${server.url}/api/v1/certificates/acme-cert/${number}/bundle`);
    expect(res.status).toBe(200);
    return parseBundle(parseJsonStrict(await res.text()));
  }

  const failing = (verdict: { checks: Array<{ name: string; ok: boolean }> }) => verdict.checks.filter((c) => !c.ok).map((c) => c.name);

  /** VACUUM INTO: a consistent copy of a live database file. */
  function copyDatabase(server: TestServer, name: string): string {
    const target = join(dir.path, name);
    const db = new Database(join(server.dir, 'certrail.db'));
    db.exec(`VACUUM INTO '${target}'`);
    db.close();
    return target;
  }

  async function monitor(server: TestServer): Promise<{ code: number | null; output: string }> {
    return runCertrail(['monitor', server.url, '--db', monitorDb]);
  }

  beforeAll(async () => {
    // The log key exists before the witnesses start: they are configured with its verifier key.
    const logKey = await loadOrCreateKeyFile(join(dir.path, 'keys', 'log.key'), logOriginFor(BASE_URL));
    witnesses.push(
      ...(await Promise.all([1, 2].map((i) => {
        mkdirSync(join(dir.path, `w${i}`));
        return startWitnessProcess({ dir: join(dir.path, `w${i}`), name: `witness${i}.test/w`, logs: [logKey.vkey] });
      }))),
    );
    a = await startRegistry('a');
    cb = await newCbKey('acme-cert');
    expect((await registerCb(a, 'acme-cert', [cb])).status).toBe(201);
    await issue(a, 'W-1');
    snapshot = copyDatabase(a, 'snapshot.db');
    for (const n of ['W-2', 'W-3', 'W-4']) await issue(a, n);
    wellKnown = (await (await fetch(`${a.url}/.well-known/certrail`)).json()) as WellKnown;
    policy = { log: wellKnown.logVerifierKey, registryKey: wellKnown.registryKey, witnesses: wellKnown.witnesses.map((w) => w.vkey), quorum: wellKnown.quorum };
  }, 60_000);

  afterAll(async () => {
    for (const s of servers) await s.close().catch(() => undefined);
    await Promise.all(witnesses.map((w) => w.kill('SIGKILL')));
    dir.remove();
  });

  it('publishes the witness policy and serves the checkpoint with both cosignatures', async () => {
    expect(wellKnown.witnesses).toEqual(witnesses.map((w) => ({ vkey: w.vkey, url: w.url })));
    expect(wellKnown.quorum).toBe(2);
    const size = a.sequencer.checkpoint.size;
    const note = await cosigned(a, size, 2);
    for (const w of witnesses) expect(note).toContain(`\u2014 ${w.vkey.split('+')[0]} `);
    expect(a.witnessing?.status().map((s) => s.error)).toEqual([null, null]);
  });

  it('issues bundles that verify under the 2-of-2 policy', async () => {
    await cosigned(a, a.sequencer.checkpoint.size, 2);
    const verdict = await verifyBundle(await bundle(a, 'W-2'), policy, { now: Date.now() });
    expect(failing(verdict)).toEqual([]);
    expect(verdict.valid).toBe(true);
    expect(verdict.checks.find((c) => c.name === 'witnesses')?.detail).toMatch(/^2 of 2 witness/);
  });

  it('lets the monitor mirror and verify the witnessed log', async () => {
    const { code, output } = await monitor(a);
    expect(output).toMatch(/cosigned by 2 of 2 witness/);
    expect(output).toMatch(/OK: no anomaly/);
    expect(code).toBe(0);
  });

  it('refuses a fork (same key and origin, diverging) at the witnesses, and the monitor reports it', async () => {
    const aSize = a.sequencer.checkpoint.size;
    const b = await startRegistry('b', snapshot);
    expect(b.sequencer.checkpoint.size).toBeLessThan(aSize);
    // While B is smaller, the witnesses answer 409 with their larger size.
    const direct = await fetch(`${witnesses[0]!.url}/add-checkpoint`, {
      method: 'POST',
      body: formatAddCheckpointRequest({ oldSize: b.sequencer.checkpoint.size, proof: [], checkpoint: b.sequencer.checkpoint.note }),
    });
    expect(direct.status).toBe(409);
    expect(direct.headers.get('content-type')).toBe(TLOG_SIZE_MEDIA_TYPE);
    expect(await direct.text()).toBe(`${aSize}\n`);
    // B diverges and grows beyond A: its consistency proofs from A's size fail (422).
    for (const n of ['F-1', 'F-2', 'F-3', 'F-4']) await issue(b, n);
    expect(b.sequencer.checkpoint.size).toBeGreaterThan(aSize);
    const deadline = Date.now() + 10_000;
    while (!b.witnessing!.status().every((s) => s.error?.kind === 'inconsistent') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(b.witnessing!.status().map((s) => s.error?.kind)).toEqual(['inconsistent', 'inconsistent']);
    expect((await checkpointOf(b)).cosignatures).toBe(0);
    // The fork's bundles fail the witness policy.
    expect(failing(await verifyBundle(await bundle(b, 'F-1'), policy, { now: Date.now() }))).toEqual(['witnesses']);
    // The monitor that mirrored A refuses B's history.
    const { code, output } = await monitor(b);
    expect(code).toBe(1);
    expect(output).toMatch(/ANOMALY inconsistent: checkpoint \d+ is not an append-only extension of checkpoint \d+/);
    expect(output).toMatch(/differs from the mirrored one from entry \d+ on/);
    await b.close();
    servers.splice(servers.indexOf(b), 1);
  });

  it('still serves A cosigned; bundles fail the 2-of-2 policy while one witness is down', async () => {
    await witnesses[1]!.kill('SIGKILL');
    const index = await issue(a, 'W-5');
    const note = await cosigned(a, index + 1, 1);
    expect(parseNote(note).signatures).toHaveLength(2); // the log and the witness that is up
    const b5 = await bundle(a, 'W-5');
    expect(failing(await verifyBundle(b5, policy, { now: Date.now() }))).toEqual(['witnesses']);
    expect(failing(await verifyBundle(b5, { ...policy, quorum: 1 }, { now: Date.now() }))).toEqual([]);
    // The witness comes back on its port with its state: the registry's retries get the second cosignature.
    const w2 = witnesses[1]!;
    witnesses[1] = await startWitnessProcess({ dir: join(dir.path, 'w2'), name: 'witness2.test/w', logs: [wellKnown.logVerifierKey], port: w2.port });
    await cosigned(a, index + 1, 2);
    expect(failing(await verifyBundle(await bundle(a, 'W-5'), policy, { now: Date.now() }))).toEqual([]);
  });

  it('refuses a rollback (restart on an older copy of the database), and the monitor reports it', async () => {
    const aSize = a.sequencer.checkpoint.size;
    await a.close();
    servers.splice(servers.indexOf(a), 1);
    const rolled = await startRegistry('rolled', snapshot);
    expect(rolled.sequencer.checkpoint.size).toBeLessThan(aSize);
    const deadline = Date.now() + 10_000;
    while (!rolled.witnessing!.status().every((s) => s.error?.kind === 'ahead') && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    // Each witness answered 409 with its larger size: this log cannot prove consistency with it.
    expect(rolled.witnessing!.status().map((s) => [s.error?.kind, s.size])).toEqual([['ahead', aSize], ['ahead', aSize]]);
    expect((await checkpointOf(rolled)).cosignatures).toBe(0);
    const { code, output } = await monitor(rolled);
    expect(code).toBe(1);
    expect(output).toMatch(/ANOMALY rollback: the log serves a checkpoint of size \d+ after this monitor verified size \d+/);
  });
});
