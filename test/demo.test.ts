// The demo data: a fresh registry gets one managed-signing CB and certificates in every state a relying party can
// meet, each with the intended verdict at its verify URL; a second start (or CERTRAIL_DEMO=0) seeds nothing.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DEMO_ISSUER, seedDemoOnStart } from '../src/demo.js';
import { call } from './support/client.js';
import { startTestServer, tempDir, type TestServer } from './support/registry.js';

const INTENDED: Record<string, { status: string; surveillance: string; valid: boolean; events: string[] }> = {
  'DEMO-0001': { status: 'active', surveillance: 'current', valid: true, events: [] },
  'DEMO-0002': { status: 'active', surveillance: 'current', valid: true, events: ['surveillance-audit'] },
  'DEMO-0003': { status: 'active', surveillance: 'due', valid: true, events: [] },
  'DEMO-0004': { status: 'active', surveillance: 'overdue', valid: false, events: [] },
  'DEMO-0005': { status: 'suspended', surveillance: 'overdue', valid: false, events: ['suspended'] },
  'DEMO-0006': { status: 'revoked', surveillance: 'current', valid: false, events: ['revoked'] },
  'DEMO-0007': { status: 'expired', surveillance: 'overdue', valid: false, events: ['surveillance-audit'] },
  'DEMO-0008': { status: 'not-yet-valid', surveillance: 'current', valid: false, events: [] },
};

function demoServices(server: TestServer) {
  return { registry: server.registry, views: server.views, baseUrl: server.config.baseUrl, writeRefusal: server.sequencer.refused };
}

async function treeSize(server: TestServer): Promise<number> {
  return (await call(server, 'GET', '/healthz')).body.size;
}

describe('demo data', () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('seeds a managed-signing CB and certificates whose verdicts are the intended ones', async () => {
    const server = await startTestServer(dir.path);
    try {
      const lines = await seedDemoOnStart(demoServices(server), {});
      expect(lines).toHaveLength(1 + Object.keys(INTENDED).length);
      for (const [number, intended] of Object.entries(INTENDED)) {
        const url = `${server.config.baseUrl}/v/${DEMO_ISSUER}/${number}`;
        expect(lines.find((l) => l.includes(url)), number).toMatch(new RegExp(`^  ${intended.status}\\b`));

        const res = await call(server, 'GET', `/v/${DEMO_ISSUER}/${number}`, { headers: { accept: 'application/json' } });
        expect(res.status).toBe(200);
        expect(res.body, number).toMatchObject({ id: url, status: intended.status, surveillance: intended.surveillance, valid: intended.valid });
        // Everything that does not depend on the intended state passes: signature, key, log inclusion, event chain.
        for (const name of ['signature', 'issuer-key', 'logged', 'events']) {
          expect(res.body.checks.find((c: { name: string }) => c.name === name), `${number} ${name}`).toMatchObject({ ok: true });
        }
        const full = await call(server, 'GET', `/api/v1/certificates/${DEMO_ISSUER}/${number}`);
        expect(full.body.events.map((e: { event: { kind: string } }) => e.event.kind)).toEqual(intended.events);
        expect(full.body.credential.proof.verificationMethod).toBe(`${server.config.baseUrl}/issuers/${DEMO_ISSUER}#managed-1`);
        expect(full.body.credential.credentialSubject.certificate.standards[0].id).toBe('ISO/IEC 42001:2023');
      }
      const issuer = await call(server, 'GET', `/api/v1/issuers/${DEMO_ISSUER}`);
      expect(issuer.body).toMatchObject({ slug: DEMO_ISSUER, managedSigning: true });
      expect(issuer.body.keys.map((k: { keyId: string }) => k.keyId)).toEqual(['managed-1']);
    } finally {
      await server.close();
    }
  });

  it('does not seed twice: a second start on the same database adds nothing', async () => {
    const server = await startTestServer(dir.path);
    try {
      const size = await treeSize(server);
      expect(await seedDemoOnStart(demoServices(server), {})).toEqual([]);
      expect(await treeSize(server)).toBe(size);
      expect((await call(server, 'GET', '/api/v1/issuers')).body.issuers).toHaveLength(1);
    } finally {
      await server.close();
    }
  });

  it('CERTRAIL_DEMO=0 leaves an empty registry empty', async () => {
    const empty = tempDir();
    const server = await startTestServer(empty.path);
    try {
      expect(await seedDemoOnStart(demoServices(server), { CERTRAIL_DEMO: '0' })).toEqual([]);
      expect(await treeSize(server)).toBe(0);
    } finally {
      await server.close();
      empty.remove();
    }
  });
});

/** Runs `npm start` (tsx src/node.ts) and resolves with its output once it says it is listening. */
function npmStart(dir: string, env: NodeJS.ProcessEnv = {}): Promise<{ child: ChildProcessWithoutNullStreams; output: string; port: number }> {
  const child = spawn(join('node_modules', '.bin', 'tsx'), ['src/node.ts'], {
    env: {
      ...process.env,
      HOST: '127.0.0.1',
      PORT: '0',
      CERTRAIL_DB: join(dir, 'certrail.db'),
      CERTRAIL_KEYS: join(dir, 'keys'),
      CERTRAIL_ORIGIN: 'http://certrail.test',
      CERTRAIL_DEMO: '',
      ...env,
    },
  });
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`npm start did not start:\n${output}`));
    }, 25_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const match = /Certrail listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve({ child, output, port: Number(match[1]) });
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`npm start exited with ${code}:\n${output}`));
    });
  });
}

async function stop(child: ChildProcessWithoutNullStreams): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await exited;
}

describe('npm start', { timeout: 90_000 }, () => {
  const dir = tempDir();
  afterAll(() => dir.remove());

  it('seeds the demo on an empty database, prints the verify URLs, and not again on the next start', async () => {
    const first = await npmStart(dir.path);
    try {
      const urls = first.output.split('\n').filter((l) => l.includes('/v/demo-cb/'));
      expect(urls).toHaveLength(Object.keys(INTENDED).length);
      for (const [number, intended] of Object.entries(INTENDED)) {
        expect(urls.find((l) => l.includes(`http://certrail.test/v/demo-cb/${number}`))).toMatch(new RegExp(`^  ${intended.status}\\b`));
      }
      const res = await fetch(`http://127.0.0.1:${first.port}/v/demo-cb/DEMO-0006`, { headers: { accept: 'application/json' } });
      expect(await res.json()).toMatchObject({ status: 'revoked', valid: false });
    } finally {
      await stop(first.child);
    }
    const second = await npmStart(dir.path);
    try {
      expect(second.output).not.toContain('/v/demo-cb/');
      const issuers = await (await fetch(`http://127.0.0.1:${second.port}/api/v1/issuers`)).json();
      expect(issuers.issuers).toHaveLength(1);
    } finally {
      await stop(second.child);
    }
  });
});
