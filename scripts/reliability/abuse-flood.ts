// Child process of scripts/reliability/abuse-load.ts: the abusive clients, in a process of their own so that their
// CPU use does not delay the control client's event loop (whose latencies are the measurement).
//
//   node --import tsx scripts/reliability/abuse-flood.ts '<FloodArgs as JSON>'
//
// For --duration-ms it runs, all at once:
//   - flood:     `concurrency` keep-alive connections POSTing signed certificates of the flooding CB as fast as they
//                are answered (far above the CB's rate limit), each new certificate with a new single-use token;
//   - oversized: one connection at a time from the second CB: a 1 MiB body with its Content-Length, a 64 MiB body
//                streamed chunked (no length), a 64 KiB header and a 64 KiB URL (above Node's 16 KiB header limit).
// It prints one JSON line: the answers counted by kind and status, and the requests cut without an answer.
import { Agent, request, type OutgoingHttpHeaders } from 'node:http';
import { pathToFileURL } from 'node:url';
import { importJWK, SignJWT } from 'jose';
import { fromHex, toHex } from '../../src/core/bytes.js';
import { ed25519PublicKey, randomBytes } from '../../src/core/crypto.js';
import { signDataIntegrity } from '../../src/core/data-integrity.js';
import { ed25519Jwk } from '../../src/http/auth.js';
import { exampleCertificate } from '../../test/support/examples.js';

export interface FloodArgs {
  port: number;
  /** The registry's base URL (CERTRAIL_ORIGIN): certificate ids and the token audience. */
  baseUrl: string;
  durationMs: number;
  concurrency: number;
  flood: { slug: string; keyId: string; seedHex: string };
  heavy: { slug: string; keyId: string; seedHex: string };
}

export interface FloodReport {
  /** kind → status → count (status 0: cut without an answer). */
  answers: Record<string, Record<string, number>>;
  elapsedMs: number;
}

const MIB = 1024 * 1024;

/** Mints single-use EdDSA tokens with one imported key (src/cli/token.ts imports the key for every token). */
async function tokenMinter(slug: string, keyId: string, seed: Uint8Array, audience: string): Promise<() => Promise<string>> {
  const publicKey = await ed25519PublicKey(seed);
  const key = await importJWK({ ...ed25519Jwk(publicKey, keyId), d: Buffer.from(seed).toString('base64url') }, 'EdDSA');
  return () => {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT({})
      .setProtectedHeader({ alg: 'EdDSA', kid: keyId, typ: 'JWT' })
      .setIssuer(slug)
      .setAudience(audience)
      .setIssuedAt(now)
      .setExpirationTime(now + 120)
      .setJti(toHex(randomBytes(16)))
      .sign(key);
  };
}

/**
 * One request; resolves with the status, or 0 when the connection was cut before an answer. `body` 'stream' sends
 * `streamBytes` chunked, stopping as soon as the answer arrives.
 */
function send(
  port: number,
  agent: Agent | undefined,
  spec: { method: string; path: string; headers: OutgoingHttpHeaders; body?: Buffer; streamBytes?: number },
): Promise<number> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (status: number) => {
      if (settled) return;
      settled = true;
      resolve(status);
    };
    const headers = spec.body ? { ...spec.headers, 'content-length': String(spec.body.length) } : spec.headers;
    const req = request({ host: '127.0.0.1', port, method: spec.method, path: spec.path, headers, agent }, (res) => {
      res.resume();
      res.on('end', () => done(res.statusCode ?? 0));
      res.on('error', () => done(res.statusCode ?? 0));
      if (spec.streamBytes) req.destroy(); // the answer is in: stop streaming
    });
    req.on('error', () => done(0));
    if (spec.streamBytes) {
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      let sent = 0;
      const pump = () => {
        while (!settled && !req.destroyed && sent < spec.streamBytes!) {
          sent += chunk.length;
          if (!req.write(chunk)) {
            req.once('drain', pump);
            return;
          }
        }
        if (!req.destroyed && sent >= spec.streamBytes!) req.end();
      };
      req.write('{"a":"');
      pump();
    } else {
      req.end(spec.body);
    }
  });
}

export async function flood(args: FloodArgs): Promise<FloodReport> {
  const answers: Record<string, Record<string, number>> = {};
  const count = (kind: string, status: number) => {
    const byStatus = (answers[kind] ??= {});
    byStatus[status] = (byStatus[status] ?? 0) + 1;
  };
  const floodToken = await tokenMinter(args.flood.slug, args.flood.keyId, fromHex(args.flood.seedHex), args.baseUrl);
  const heavyToken = await tokenMinter(args.heavy.slug, args.heavy.keyId, fromHex(args.heavy.seedHex), args.baseUrl);
  const floodSeed = fromHex(args.flood.seedHex);
  const verificationMethod = `${args.baseUrl}/issuers/${args.flood.slug}#${args.flood.keyId}`;
  const created = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const year = 365 * 24 * 3600 * 1000;
  const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, 'Z');
  const started = performance.now();
  const until = started + args.durationMs;
  let serial = 0;

  const agent = new Agent({ keepAlive: true, maxSockets: args.concurrency });
  /** A new signed certificate of the flooding CB. */
  async function nextCertificate(): Promise<{ number: string; body: Buffer }> {
    const number = `FLOOD-${process.pid}-${serial++}`;
    const now = Date.now();
    const certificate = await signDataIntegrity(
      exampleCertificate(args.baseUrl, args.flood.slug, number, {
        validFrom: iso(now - year),
        validUntil: iso(now + year),
        credentialSubject: { certificate: { surveillance: { intervalMonths: 12, firstDueBy: iso(now + year / 2) } } },
      }),
      { seed: floodSeed, verificationMethod, created },
    );
    return { number, body: Buffer.from(JSON.stringify(certificate)) };
  }

  // A refused request is sent again, same certificate and same token, until it is accepted: a request refused by the
  // rate limit never reaches authentication, so its single-use token is still unused. Signing is the flooder's cost,
  // and re-signing every refused request would only slow the flood down.
  async function floodLoop(): Promise<void> {
    const fresh = async () => ({ ...(await nextCertificate()), token: await floodToken(), mintedAt: performance.now() });
    let next = await fresh();
    while (performance.now() < until) {
      const status = await send(args.port, agent, {
        method: 'POST',
        path: '/api/v1/certificates',
        headers: { authorization: `Bearer ${next.token}`, 'content-type': 'application/json', 'idempotency-key': next.number },
        body: next.body,
      });
      count('flood', status);
      if (status === 201 || status === 401 || performance.now() - next.mintedAt > 60_000) next = await fresh();
    }
  }

  async function oversizedLoop(): Promise<void> {
    const padding = Buffer.alloc(64 * 1024, 0x61).toString();
    for (let round = 0; performance.now() < until; round++) {
      const auth = async () => ({ authorization: `Bearer ${await heavyToken()}`, 'content-type': 'application/json' });
      switch (round % 4) {
        case 0:
          count('body-1MiB', await send(args.port, undefined, { method: 'POST', path: '/api/v1/certificates', headers: await auth(), body: Buffer.alloc(MIB, 0x20) }));
          break;
        case 1:
          count('body-64MiB-chunked', await send(args.port, undefined, { method: 'POST', path: '/api/v1/certificates', headers: await auth(), streamBytes: 64 * MIB }));
          break;
        case 2:
          count('header-64KiB', await send(args.port, undefined, { method: 'POST', path: '/api/v1/certificates', headers: { ...(await auth()), 'x-padding': padding }, body: Buffer.from('{}') }));
          break;
        default:
          count('url-64KiB', await send(args.port, undefined, { method: 'GET', path: `/v/${args.heavy.slug}/${padding}`, headers: { accept: 'application/json' } }));
      }
    }
  }

  await Promise.all([...Array.from({ length: args.concurrency }, floodLoop), oversizedLoop()]);
  agent.destroy();
  return { answers, elapsedMs: Math.round(performance.now() - started) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const report = await flood(JSON.parse(process.argv[2] ?? '{}') as FloodArgs);
  process.stdout.write(`${JSON.stringify(report)}\n`);
}
