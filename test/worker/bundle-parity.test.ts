// The same registry on both entries: the Node server (better-sqlite3) and the Worker (`wrangler dev`, D1, the Durable
// Object sequencer) run with the same log and registry keys. The same certification body issues the same signed
// credential on both and records the same events; each side's offline bundle then verifies with the same SDK
// (verifyBundle) and the same trust policy, to the same verdict, and the Worker's checkpoints open with the key the
// Node server announces.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fromBase64 } from '../../src/core/bytes.js';
import { parseBundle, verifyBundle, type Bundle, type TrustPolicy } from '../../src/core/bundle.js';
import { randomBytes } from '../../src/core/crypto.js';
import { decodeEntry } from '../../src/core/entry.js';
import { formatSignerKey, parseSignerKey } from '../../src/core/note.js';
import { parseJsonStrict, type JsonObject } from '../../src/core/json.js';
import { call, newCbKey, registerCb, signAs, type CbKey } from '../support/client.js';
import { exampleCertificate, exampleStatusEvent } from '../support/examples.js';
import { startNodeServer } from '../../src/node.js';
import { logOriginFor } from '../../src/config.js';
import { tempDir, type TestServer } from '../support/registry.js';
import { startWorkerServer } from '../support/worker.js';
import { join } from 'node:path';

const year = 365 * 24 * 3600 * 1000;
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
const BASE_URL = 'http://certrail.test';

describe('bundles from the Worker and from the Node server', () => {
  const dir = tempDir('certrail-parity-');
  const targets: Record<'node' | 'worker', TestServer> = {} as Record<'node' | 'worker', TestServer>;
  let cb: CbKey;
  let credential: JsonObject;

  beforeAll(async () => {
    // One key folder for both: the Node server creates the keys, the Worker gets them as its secrets.
    const node = await startNodeServer({
      host: '127.0.0.1',
      port: 0,
      dbPath: join(dir.path, 'certrail.db'),
      keyDir: join(dir.path, 'keys'),
      baseUrl: BASE_URL,
      logOrigin: logOriginFor(BASE_URL),
      maxDelayMs: 1,
    });
    targets.node = { ...node, url: `http://127.0.0.1:${node.port}`, dir: dir.path };
    targets.worker = (await startWorkerServer(dir.path, { baseUrl: BASE_URL })) as unknown as TestServer;
    cb = await newCbKey('acme-cert');
    const now = Date.now();
    credential = await signAs(
      targets.node,
      cb,
      exampleCertificate(BASE_URL, 'acme-cert', 'PARITY-1', {
        validFrom: iso(now - year),
        validUntil: iso(now + 2 * year),
        credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + year / 2) } } },
      }),
    );
    for (const server of Object.values(targets)) {
      expect((await registerCb(server, 'acme-cert', [cb])).status).toBe(201);
      const issued = await call(server, 'POST', '/api/v1/certificates', { key: cb, body: credential });
      expect(issued.status, JSON.stringify(issued.body)).toBe(201);
      let head = { index: issued.body.index as number, leafHash: issued.body.leafHash as string };
      for (const kind of ['suspended', 'reinstated', 'surveillance-audit'] as const) {
        const audit = kind === 'surveillance-audit' ? { audit: { outcome: 'passed', nextDueBy: iso(Date.now() + year) } } : {};
        const event = await signAs(server, cb, exampleStatusEvent(credential.id as string, kind, { previous: head, effective: iso(Date.now()), ...audit }));
        const res = await call(server, 'POST', '/api/v1/certificates/acme-cert/PARITY-1/events', { key: cb, body: event });
        expect(res.status, JSON.stringify(res.body)).toBe(201);
        head = { index: res.body.index, leafHash: res.body.leafHash };
      }
    }
  }, 180_000);
  afterAll(async () => {
    await Promise.all(Object.values(targets).map((t) => t.close()));
    dir.remove();
  });

  async function bundleOf(server: TestServer): Promise<Bundle> {
    const res = await fetch(`${server.url}/api/v1/certificates/acme-cert/PARITY-1/bundle`);
    expect(res.status).toBe(200);
    return parseBundle(parseJsonStrict(await res.text()));
  }

  it('announces the same trust policy on both', async () => {
    const node = await call(targets.node, 'GET', '/.well-known/certrail');
    const worker = await call(targets.worker, 'GET', '/.well-known/certrail');
    expect(worker.body).toEqual(node.body);
  });

  it('verifies either bundle with the same SDK and policy, to the same verdict', async () => {
    const wellKnown = (await call(targets.node, 'GET', '/.well-known/certrail')).body as { logVerifierKey: string; registryKey: string };
    const policy: TrustPolicy = { log: wellKnown.logVerifierKey, registryKey: wellKnown.registryKey };
    const now = Date.now();
    const [nodeBundle, workerBundle] = [await bundleOf(targets.node), await bundleOf(targets.worker)];
    const [nodeVerdict, workerVerdict] = [await verifyBundle(nodeBundle, policy, { now }), await verifyBundle(workerBundle, policy, { now })];
    expect(workerVerdict.checks.filter((c) => !c.ok)).toEqual([]);
    expect(workerVerdict).toMatchObject({ valid: true, status: 'active', surveillance: 'current' });
    const summary = (v: typeof nodeVerdict) => ({
      valid: v.valid,
      status: v.status,
      surveillance: v.surveillance,
      certificate: v.certificate,
      checks: v.checks.map((c) => [c.name, c.ok]),
      checkpoint: v.checkpoint,
    });
    expect(summary(workerVerdict)).toEqual(summary(nodeVerdict));

    // The same entries (kinds and indices), and the credential logged byte for byte the same.
    const shape = (b: Bundle) => b.entries.map((e) => [e.index, decodeEntry(fromBase64(e.entry)).kind]);
    expect(shape(workerBundle)).toEqual(shape(nodeBundle));
    const loggedCredential = (b: Bundle) =>
      b.entries.map((e) => decodeEntry(fromBase64(e.entry))).find((e) => e.kind === 'certificate.issued')!.body;
    expect(loggedCredential(workerBundle)).toEqual(credential);
    expect(loggedCredential(nodeBundle)).toEqual(credential);

    // A bundle is only as good as its log key: the Worker's does not verify under another log's policy.
    const otherLog = await parseSignerKey(formatSignerKey(logOriginFor(BASE_URL), randomBytes(32)));
    const refused = await verifyBundle(workerBundle, { ...policy, log: otherLog.vkey }, { now });
    expect(refused.valid).toBe(false);
  });

  it('gives the same verdict online on both', async () => {
    const get = (server: TestServer) => call(server, 'GET', '/v/acme-cert/PARITY-1', { headers: { accept: 'application/json' } });
    const [node, worker] = [await get(targets.node), await get(targets.worker)];
    expect(worker.status).toBe(200);
    expect({ ...worker.body, checks: worker.body.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]) }).toMatchObject({
      valid: node.body.valid,
      status: node.body.status,
      surveillance: node.body.surveillance,
      checks: node.body.checks.map((c: { name: string; ok: boolean }) => [c.name, c.ok]),
    });
  });
});
