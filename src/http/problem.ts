// RFC 9457 problem details: the one place where error codes become HTTP statuses. Unexpected errors become a generic
// 500 whose body reveals nothing (no message, stack or SQL); they are logged by the caller without request data.
import type { Context } from 'hono';
import type { ContentfulStatusCode } from 'hono/utils/http-status';
import { RegistryError, storageUnavailable, type RegistryErrorCode } from '../core/errors.js';

/** Every problem code: the RegistryErrorCodes plus the generic `internal`. */
export type ProblemCode = RegistryErrorCode | 'internal';

export const PROBLEM_STATUS: Readonly<Record<ProblemCode, ContentfulStatusCode>> = {
  'bad-request': 400,
  'bad-json': 400,
  'bad-range': 400,
  'bad-signature': 400,
  'not-found': 404,
  'entry-too-large': 413,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  unauthorized: 401,
  forbidden: 403,
  conflict: 409,
  'rate-limited': 429,
  'log-integrity': 500,
  internal: 500,
  unavailable: 503,
};

export const PROBLEM_CODES = Object.keys(PROBLEM_STATUS) as ProblemCode[];

const TITLE: Record<RegistryErrorCode, string> = {
  'bad-request': 'Bad request',
  'bad-json': 'Malformed JSON',
  'bad-range': 'Range out of bounds',
  'bad-signature': 'Signature not accepted',
  'not-found': 'Not found',
  'entry-too-large': 'Log entry too large',
  'payload-too-large': 'Request body too large',
  'unsupported-media-type': 'Unsupported media type',
  unauthorized: 'Unauthorized',
  forbidden: 'Forbidden',
  conflict: 'Conflict',
  'rate-limited': 'Too many requests',
  'log-integrity': 'Log integrity failure',
  unavailable: 'Service unavailable',
};

export function problem(c: Context, code: RegistryErrorCode, detail: string): Response {
  const status = PROBLEM_STATUS[code];
  c.header('Cache-Control', 'no-store');
  if (status === 503) c.header('Retry-After', '1');
  return c.body(problemJson(code, detail), status, {
    'Content-Type': 'application/problem+json',
  });
}

function problemJson(code: RegistryErrorCode, detail: string): string {
  const status = PROBLEM_STATUS[code];
  return JSON.stringify({ type: `/problems/${code}`, title: TITLE[code], status, code, detail });
}

/** The same problem outside a Hono handler (the Node entry's write forwarding, src/log/leader.ts). */
export function problemResponse(code: RegistryErrorCode, detail: string): Response {
  const status = PROBLEM_STATUS[code];
  const headers: Record<string, string> = { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' };
  if (status === 503) headers['Retry-After'] = '1';
  return new Response(problemJson(code, detail), { status, headers });
}

/** Hono's onError handler. */
export function handleError(error: unknown, c: Context): Response {
  if (error instanceof RegistryError) return problem(c, error.code, error.detail);
  const fault = storageUnavailable(error);
  if (fault) return problem(c, fault.code, fault.detail);
  console.error('unexpected error:', error);
  return c.body(
    JSON.stringify({ type: '/problems/internal', title: 'Internal error', status: 500, code: 'internal', detail: 'internal error' }),
    500,
    { 'Content-Type': 'application/problem+json', 'Cache-Control': 'no-store' },
  );
}
