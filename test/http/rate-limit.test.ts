// Per-CB write limits: the token bucket on an injected clock (refill, Retry-After, eviction at the key cap), the
// CERTRAIL_RATE_LIMIT syntax, and over real loopback HTTP: a CB past its burst gets 429 rate-limited with an integer
// Retry-After while other CBs and every read go on; a forged token naming a CB does not spend that CB's budget; an
// address that spent its budget on failed authentications is refused.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimedIssuer, DEFAULT_RATE_LIMIT, isLimitedRequest, parseRateLimit, RateLimiter } from '../../src/http/rate-limit.js';
import { mintToken } from '../../src/cli/token.js';
import { call, newCbKey, registerCb, signAs, type CbKey } from '../support/client.js';
import { exampleCertificate } from '../support/examples.js';
import { startTestServer, tempDir, type TestServer } from '../support/registry.js';

function clock(start = 1_000_000) {
  let t = start;
  return { now: () => t, advance: (ms: number) => (t += ms) };
}

describe('RateLimiter', () => {
  it('accepts a burst, then refills at the rate and names the wait in whole seconds', () => {
    const c = clock();
    const limiter = new RateLimiter({ perSecond: 2, burst: 5 }, c.now);
    for (let i = 0; i < 5; i++) expect(limiter.take('cb:a')).toBe(0);
    expect(limiter.take('cb:a')).toBe(1); // 1 token at 2/s: 0.5 s, rounded up to 1
    c.advance(499);
    expect(limiter.take('cb:a')).toBe(1);
    c.advance(1);
    expect(limiter.take('cb:a')).toBe(0);
    c.advance(10_000);
    for (let i = 0; i < 5; i++) expect(limiter.take('cb:a')).toBe(0); // refilled to the burst, not beyond
    expect(limiter.take('cb:a')).toBe(1);
    expect(limiter.take('cb:b')).toBe(0); // buckets are per key
  });

  it('rounds a long wait up to whole seconds', () => {
    const c = clock();
    const limiter = new RateLimiter({ perSecond: 0.25, burst: 1 }, c.now);
    expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBe(4);
    c.advance(2500);
    expect(limiter.take('k')).toBe(2); // 0.375 of a token missing at 0.25/s: 1.5 s → 2
    expect(limiter.wait('k')).toBe(2);
  });

  it('wait does not take and refund gives a token back, never beyond the burst', () => {
    const c = clock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 2 }, c.now);
    expect(limiter.wait('k')).toBe(0);
    expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBe(0);
    expect(limiter.wait('k')).toBe(1);
    limiter.refund('k');
    expect(limiter.take('k')).toBe(0);
    limiter.refund('k');
    limiter.refund('k');
    limiter.refund('k');
    expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBe(0);
    expect(limiter.take('k')).toBe(1);
  });

  it('adds nothing when the clock goes backwards', () => {
    const c = clock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, c.now);
    expect(limiter.take('k')).toBe(0);
    c.advance(-60_000);
    expect(limiter.take('k')).toBe(1);
    c.advance(60_000);
    expect(limiter.take('k')).toBe(1); // the time it went back is not counted twice
    c.advance(1000);
    expect(limiter.take('k')).toBe(0);
  });

  it('tracks at most maxKeys buckets, evicting the least recently used', () => {
    const c = clock();
    const limiter = new RateLimiter({ perSecond: 1, burst: 1 }, c.now, 3);
    expect(limiter.take('a')).toBe(0);
    expect(limiter.take('b')).toBe(0);
    expect(limiter.take('c')).toBe(0);
    expect(limiter.take('a')).toBe(1); // a is now the most recently used
    expect(limiter.take('d')).toBe(0); // evicts b
    expect(limiter.size).toBe(3);
    expect(limiter.take('a')).toBe(1); // still tracked: still empty
    expect(limiter.take('c')).toBe(1);
    expect(limiter.take('b')).toBe(0); // evicted, so it starts full again (evicting d)
    for (let i = 0; i < 100_000; i++) limiter.take(`flood-${i}`);
    expect(limiter.size).toBe(3);
  });
});

describe('CERTRAIL_RATE_LIMIT and request classification', () => {
  it('parses <per second>,<burst>, off and the default, and refuses anything else', () => {
    expect(parseRateLimit(undefined)).toEqual(DEFAULT_RATE_LIMIT);
    expect(parseRateLimit('  ')).toEqual(DEFAULT_RATE_LIMIT);
    expect(parseRateLimit('off')).toBeNull();
    expect(parseRateLimit('20,100')).toEqual({ perSecond: 20, burst: 100 });
    expect(parseRateLimit('0.5, 3')).toEqual({ perSecond: 0.5, burst: 3 });
    for (const bad of ['0,10', '10,0', '10', '10,2.5', '-1,5', 'on', '10,10,10', 'Infinity,5']) {
      expect(() => parseRateLimit(bad), bad).toThrow(/CERTRAIL_RATE_LIMIT/);
    }
  });

  it('limits writes only; batch verification is a read', () => {
    expect(isLimitedRequest('POST', '/api/v1/certificates')).toBe(true);
    expect(isLimitedRequest('POST', '/api/v1/issuers/a/keys/k/revoke')).toBe(true);
    expect(isLimitedRequest('DELETE', '/api/v1/certificates/a/b')).toBe(true);
    expect(isLimitedRequest('POST', '/api/v1/verify')).toBe(false);
    expect(isLimitedRequest('GET', '/api/v1/certificates')).toBe(false);
    expect(isLimitedRequest('HEAD', '/api/v1/certificates')).toBe(false);
  });

  it('reads the claimed iss of a Bearer token without trusting it', async () => {
    const cb = await newCbKey('acme-cert');
    expect(claimedIssuer(`Bearer ${await mintToken(cb, 'http://x')}`)).toBe('acme-cert');
    expect(claimedIssuer(undefined)).toBeNull();
    expect(claimedIssuer('Bearer a.b.c')).toBeNull();
    const payload = Buffer.from(JSON.stringify({ iss: 'x'.repeat(129) })).toString('base64url');
    expect(claimedIssuer(`Bearer e30.${payload}.c2ln`)).toBeNull();
    expect(claimedIssuer(`Basic ${Buffer.from('a:b').toString('base64')}`)).toBeNull();
  });
});

describe('rate limits over HTTP', () => {
  const dir = tempDir('certrail-rate-');
  let server: TestServer;
  let alpha: CbKey;
  let beta: CbKey;
  let serial = 0;

  beforeAll(async () => {
    // Registration is a write of the operator (iss `registry`), limited like any CB: 2 registrations of a burst of 3.
    // A token every 100 s: nothing refills while the test runs, however slow the machine.
    server = await startTestServer(dir.path, { rateLimit: { perSecond: 0.01, burst: 3 } });
    alpha = await newCbKey('alpha-cert');
    beta = await newCbKey('beta-cert');
    expect((await registerCb(server, 'alpha-cert', [alpha])).status).toBe(201);
    expect((await registerCb(server, 'beta-cert', [beta])).status).toBe(201);
  });
  afterAll(async () => {
    await server.close();
    dir.remove();
  });

  async function issue(cb: CbKey) {
    const number = `RL-${serial++}`;
    const body = await signAs(server, cb, exampleCertificate(server.config.baseUrl, cb.issuer, number));
    return call(server, 'POST', '/api/v1/certificates', { key: cb, body });
  }

  async function treeSize(): Promise<number> {
    return Number((await (await fetch(`${server.url}/log/checkpoint`)).text()).split('\n')[1]);
  }

  it('answers 429 rate-limited with an integer Retry-After past the burst; other CBs and reads go on', async () => {
    for (let i = 0; i < 3; i++) expect((await issue(alpha)).status).toBe(201);
    const size = await treeSize();
    const refused = await issue(alpha);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(refused.headers.get('retry-after')).toBe('100'); // one token at 0.01/s
    expect(refused.body).toMatchObject({ type: '/problems/rate-limited', status: 429, code: 'rate-limited', title: 'Too many requests' });
    expect(await treeSize()).toBe(size);

    expect((await issue(beta)).status).toBe(201);
    const read = await call(server, 'GET', `/v/alpha-cert/RL-0`, { headers: { accept: 'application/json' } });
    expect(read.status).toBe(200);
    expect(read.body.number).toBe('RL-0');
    const verify = await call(server, 'POST', '/api/v1/verify', { body: { items: [`${server.config.baseUrl}/v/alpha-cert/RL-0`] } });
    expect(verify.status).toBe(200);
  });

  it('charges a forged token naming a CB to the sender, not to that CB', async () => {
    // beta has 2 tokens left. Forged tokens with iss beta (signed by another key) fail with 401 and are refunded.
    const impostor = { ...(await newCbKey('beta-cert')), keyId: beta.keyId };
    for (let i = 0; i < 2; i++) {
      const res = await call(server, 'POST', '/api/v1/certificates', { key: impostor, body: {} });
      expect(res.status).toBe(401);
    }
    expect((await issue(beta)).status).toBe(201);
    expect((await issue(beta)).status).toBe(201);
    expect((await issue(beta)).status).toBe(429);
  });

  it('refuses an address that spent its budget on failed authentications, whatever it shows next', async () => {
    // The 2 forged requests above spent 2 of this address's 3 tokens; one more anonymous write spends the last.
    expect((await call(server, 'POST', '/api/v1/certificates', { body: {} })).status).toBe(401);
    const anonymous = await call(server, 'POST', '/api/v1/certificates', { body: {} });
    expect(anonymous.status).toBe(429);
    expect(Number(anonymous.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const gamma = await newCbKey('gamma-cert');
    const valid = await call(server, 'POST', '/api/v1/certificates', { key: gamma, body: {} });
    expect(valid.status).toBe(429);
    expect(valid.body.detail).toMatch(/this address/);
    expect((await call(server, 'GET', '/api/v1/certificates')).status).toBe(200);
  });
});
