// Leader election between processes sharing one database file (src/log/leader.ts), here as two ElectedSequencers on
// two connections in one process (SQLite's locks behave the same between connections of one process): one leads,
// the other follows with current reads, forwards writes, and takes over when the leader stops.
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { randomBytes } from '../../src/core/crypto.js';
import { formatSignerKey, parseSignerKey } from '../../src/core/note.js';
import { ElectedSequencer, FORWARDED_HEADER, isWriteRequest } from '../../src/log/leader.js';
import { Sequencer } from '../../src/log/sequencer.js';
import { createSqliteLogStore, dataVersion, openSqlite, trySequencerLock } from '../../src/store/sqlite.js';
import { tempDir } from '../support/registry.js';

const ORIGIN = 'certrail.test/log';
const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup() {
  const dir = tempDir();
  cleanups.push(() => dir.remove());
  const signer = await parseSignerKey(formatSignerKey(ORIGIN, randomBytes(32)));
  const dbPath = join(dir.path, 'log.db');
  return async () => {
    const handle = openSqlite(dbPath);
    const store = createSqliteLogStore(handle);
    const elected = await ElectedSequencer.start({
      dbPath,
      store,
      tryLock: () => trySequencerLock(dbPath),
      dataVersion: dataVersion(handle),
      openSequencer: () => Sequencer.open({ store, signer, origin: ORIGIN, maxDelayMs: 1 }),
      takeoverMs: 20,
    });
    cleanups.push(() => handle.sqlite.close(), () => elected.close());
    return elected;
  };
}

const entry = (i: number) => new TextEncoder().encode(`entry ${i}`);
const until = async (condition: () => boolean, ms = 5000) => {
  for (const deadline = Date.now() + ms; !condition() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
  return condition();
};

describe('ElectedSequencer', () => {
  it('lets one process sequence; the other reads current checkpoints, refuses appends and takes over at its end', async () => {
    const open = await setup();
    const leader = await open();
    const follower = await open();
    expect(leader.leading).toBe(true);
    expect(follower.leading).toBe(false);
    await expect(follower.append(entry(0))).rejects.toMatchObject({ code: 'unavailable' });
    await Promise.all([0, 1, 2].map((i) => leader.append(entry(i))));
    expect((await follower.latest()).note).toBe(leader.checkpoint.note);
    const seen: number[] = [];
    follower.onCheckpoint((c) => seen.push(c.size));

    await leader.close(); // as a killed process would, it releases the lock
    expect(await until(() => follower.leading)).toBe(true);
    expect(follower.refused).toBeNull();
    await expect(follower.append(entry(3))).resolves.toMatchObject({ index: 3 });
    expect(seen).toEqual([4]);
  });

  it('forwards a write to the advertised leader once, and answers 503 problems when it cannot', async () => {
    const open = await setup();
    const leader = await open();
    const follower = await open();
    const request = () =>
      new Request('http://certrail.test/api/v1/certificates?x=1', {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: 'Bearer a.b.c', 'idempotency-key': 'k-1' },
        body: '{"hello":"leader"}',
      });

    const unavailable = await follower.forward(request());
    expect(unavailable.status).toBe(503);
    expect(unavailable.headers.get('content-type')).toBe('application/problem+json');
    expect(unavailable.headers.get('retry-after')).toBe('1');
    expect(await unavailable.json()).toMatchObject({ code: 'unavailable' });

    let received: { req: IncomingMessage; body: string } | null = null;
    const server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        received = { req, body };
        res.writeHead(201, { 'content-type': 'application/json' }).end('{"index":7}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => new Promise((resolve) => server.close(resolve)));
    leader.advertise(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);

    const answer = await follower.forward(request());
    expect(answer.status).toBe(201);
    expect(await answer.json()).toEqual({ index: 7 });
    const { req, body } = received!;
    expect([req.method, req.url, body]).toEqual(['POST', '/api/v1/certificates?x=1', '{"hello":"leader"}']);
    expect(req.headers.authorization).toBe('Bearer a.b.c');
    expect(req.headers['idempotency-key']).toBe('k-1');
    expect(req.headers[FORWARDED_HEADER]).toBe(String(process.pid));

    const twice = new Request(request(), { headers: { [FORWARDED_HEADER]: '1' } });
    expect((await follower.forward(twice)).status).toBe(503);
  });

  it('treats everything but reads and batch verification as a write', () => {
    const r = (method: string, path: string) => new Request(`http://x${path}`, { method });
    expect(isWriteRequest(r('POST', '/api/v1/certificates'))).toBe(true);
    expect(isWriteRequest(r('POST', '/api/v1/issuers/a/keys/k/revoke'))).toBe(true);
    expect(isWriteRequest(r('PUT', '/anything'))).toBe(true);
    expect(isWriteRequest(r('POST', '/api/v1/verify'))).toBe(false);
    expect(isWriteRequest(r('GET', '/log/checkpoint'))).toBe(false);
    expect(isWriteRequest(r('HEAD', '/v/a/b'))).toBe(false);
  });
});
