// Per-certification-body rate limits on writes (denial of service): a token bucket per key, refilled
// continuously at `perSecond` up to `burst`. Runtime-agnostic (no node:* imports); the clock is injected.
//
// Keys: `cb:<iss>` for a request carrying a Bearer token, `addr:<client address>` for one without (or whose token then
// fails authentication). The iss is read from the token before it is verified, so that a flood is refused before any
// signature is checked; a request whose token then fails (401) gets its token back on the CB's bucket and is charged to
// its address instead, so a forged token naming another CB costs that CB nothing beyond the moment it is in flight.
//
// Memory is bounded: at most `maxKeys` buckets, least recently used evicted first. An evicted bucket starts again
// full, which only ever favours the evicted key; reaching the cap needs `maxKeys` distinct keys, and keys a client
// invents (iss values, addresses) are themselves limited through the address bucket of failed authentications.
//
// State lives in the process (Node) or isolate (Workers: the sequencer Durable Object, which serves every write of a
// log); a restart or eviction starts every bucket full.
import type { Context, MiddlewareHandler } from 'hono';
import { decodeJwt } from 'jose';
import { problem } from './problem.js';

export interface RateLimit {
  /** Tokens added per second (the sustained request rate). */
  perSecond: number;
  /** Bucket size (the requests accepted at once after a quiet period). */
  burst: number;
}

/**
 * The default of the entries (CERTRAIL_RATE_LIMIT unset): 100 writes a second per CB, bursts of 1,000. Far above what
 * a CB issuing certificates needs, far below what one CB would need to take the sequencer from everyone else.
 */
export const DEFAULT_RATE_LIMIT: RateLimit = { perSecond: 100, burst: 1000 };

/** Buckets kept at most (about 100 bytes each). */
export const MAX_TRACKED_KEYS = 10_000;

/**
 * CERTRAIL_RATE_LIMIT: `<per second>,<burst>`, `off`, or unset/empty for DEFAULT_RATE_LIMIT. Null means off. Throws
 * on anything else, so a typo fails the start instead of silently disabling the limit.
 */
export function parseRateLimit(text: string | undefined): RateLimit | null {
  const value = text?.trim() ?? '';
  if (value === '') return DEFAULT_RATE_LIMIT;
  if (value === 'off') return null;
  const match = /^(\d+(?:\.\d+)?)\s*,\s*(\d+)$/.exec(value);
  const perSecond = Number(match?.[1]);
  const burst = Number(match?.[2]);
  if (!match || !(perSecond > 0) || !Number.isSafeInteger(burst) || burst < 1) {
    throw new Error(`CERTRAIL_RATE_LIMIT=${value}: must be "<per second>,<burst>" (both positive, burst an integer) or "off"`);
  }
  return { perSecond, burst };
}

interface Bucket {
  tokens: number;
  /** When `tokens` was last brought up to date (ms). */
  at: number;
}

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxKeys: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
    maxKeys = MAX_TRACKED_KEYS,
  ) {
    this.maxKeys = maxKeys;
  }

  /** Buckets currently tracked (never more than maxKeys). */
  get size(): number {
    return this.buckets.size;
  }

  /**
   * Takes one token from `key`'s bucket. Returns 0 when it was taken, else the whole seconds (at least 1) after which
   * one will be there: the Retry-After value.
   */
  take(key: string): number {
    const bucket = this.bucket(key);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return this.secondsUntilToken(bucket);
  }

  /** Like take, without taking: 0 when a token is there. */
  wait(key: string): number {
    const bucket = this.bucket(key);
    return bucket.tokens >= 1 ? 0 : this.secondsUntilToken(bucket);
  }

  /** Gives back a token taken for a request that turned out not to be `key`'s. */
  refund(key: string): void {
    const bucket = this.bucket(key);
    bucket.tokens = Math.min(this.limit.burst, bucket.tokens + 1);
  }

  /** The bucket of `key`, refilled up to now and moved to the most recently used end. */
  private bucket(key: string): Bucket {
    const now = this.now();
    let bucket = this.buckets.get(key);
    if (bucket) {
      this.buckets.delete(key);
      // A clock going backwards adds nothing (and takes nothing).
      const elapsed = Math.max(0, now - bucket.at);
      bucket.tokens = Math.min(this.limit.burst, bucket.tokens + (elapsed / 1000) * this.limit.perSecond);
      bucket.at = Math.max(bucket.at, now);
    } else {
      bucket = { tokens: this.limit.burst, at: now };
      // Map iteration is insertion order, and every access re-inserts: the first key is the least recently used.
      while (this.buckets.size >= this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    }
    this.buckets.set(key, bucket);
    return bucket;
  }

  private secondsUntilToken(bucket: Bucket): number {
    return Math.max(1, Math.ceil((1 - bucket.tokens) / this.limit.perSecond));
  }
}

/** Requests the limits apply to: every method that may change state, except the read-only batch verification. */
export function isLimitedRequest(method: string, path: string): boolean {
  if (method === 'GET' || method === 'HEAD' || method === 'OPTIONS') return false;
  return path !== '/api/v1/verify';
}

const ISS = /^[\x21-\x7e]{1,128}$/;

/** The `iss` a Bearer token claims (not verified), or null when there is no readable one. */
export function claimedIssuer(authorization: string | undefined): string | null {
  const match = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(authorization ?? '');
  if (!match) return null;
  try {
    const { iss } = decodeJwt(match[1]!);
    return typeof iss === 'string' && ISS.test(iss) ? iss : null;
  } catch {
    return null;
  }
}

function tooMany(c: Context, seconds: number, whose: string): Response {
  c.header('Retry-After', String(seconds));
  return problem(c, 'rate-limited', `too many write requests from ${whose}; retry after ${seconds} s`);
}

/**
 * Hono middleware applying `limiter` to the limited requests. `clientAddress` gives the client's address where the
 * runtime knows it; without one, requests without a token are not limited (there is nothing to key them by).
 */
export function rateLimitWrites(limiter: RateLimiter, clientAddress: (c: Context) => string | undefined): MiddlewareHandler {
  return async (c, next) => {
    if (!isLimitedRequest(c.req.method, c.req.path)) return next();
    const address = clientAddress(c);
    const addressKey = address === undefined ? null : `addr:${address}`;
    // An address that has spent its budget on failed authentications is refused whatever token it shows next.
    const addressWait = addressKey === null ? 0 : limiter.wait(addressKey);
    if (addressWait > 0) return tooMany(c, addressWait, 'this address');
    const iss = claimedIssuer(c.req.header('authorization'));
    const key = iss === null ? addressKey : `cb:${iss}`;
    if (key === null) return next();
    const wait = limiter.take(key);
    if (wait > 0) return tooMany(c, wait, iss === null ? 'this address' : 'this certification body');
    await next(); // Hono's compose turns a thrown error into c.res (onError), so the status is always there
    if (iss !== null && c.res.status === 401) {
      limiter.refund(key);
      if (addressKey !== null) limiter.take(addressKey);
    }
  };
}
