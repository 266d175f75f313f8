// The HTTP side of the certification-body and relying-party commands (verify, status, issue, event, import): which
// registry to talk to, how a certificate is named on the command line, and one fetch wrapper that turns RFC 9457
// answers into ProblemError. Nothing here is trusted: every answer is checked by the caller (bundles are verified
// locally, receipts are checked against the log key, well-known data is only a trust-on-first-use default).
import { CERT_NUMBER, ISSUER_SLUG, splitCertificateId } from '../core/credential.js';
import { isJsonObject, parseJsonStrict, type JsonObject, type JsonValue } from '../core/json.js';
import { optionsFromEnv } from '../node.js';

/** A certificate as named on the command line: its id (verify URL) or the shorthand `<issuer>/<number>`. */
export interface CertificateRef {
  issuer: string;
  number: string;
  /** The full certificate id when a URL was given; null for the shorthand. */
  id: string | null;
  /** The base URL the id names; null for the shorthand. */
  baseUrl: string | null;
}

/** What `GET /.well-known/certrail` announces. */
export interface WellKnown {
  origin: string;
  logVerifierKey: string;
  registryKey: string;
  baseUrl: string;
  apiBase: string;
  /** Witness verifier keys and quorum, when the registry announces a witness policy. */
  witnesses: string[];
  quorum: number;
}

/** An RFC 9457 problem the registry answered. */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly problem: JsonValue,
    /** Seconds from the answer's Retry-After header (RFC 9110 §10.2.3, delay-seconds form), when it has one. */
    readonly retryAfter: number | null = null,
  ) {
    const detail = isJsonObject(problem) && typeof problem.detail === 'string' ? problem.detail : JSON.stringify(problem);
    const code = isJsonObject(problem) && typeof problem.code === 'string' ? ` ${problem.code}` : '';
    super(`the registry answered ${status}${code}: ${detail}`);
  }
}

function retryAfterSeconds(value: string | null): number | null {
  return value !== null && /^\d{1,6}$/.test(value) ? Number(value) : null;
}

/** The registry URL: --registry, else $CERTRAIL_URL, else where `npm start` listens with this environment. */
export function registryUrlFrom(option: string | undefined, env: NodeJS.ProcessEnv): string {
  if (option) return option.replace(/\/+$/, '');
  if (env.CERTRAIL_URL) return env.CERTRAIL_URL.replace(/\/+$/, '');
  const { host, port } = optionsFromEnv(env);
  const local = host === '0.0.0.0' || host === '::' ? '127.0.0.1' : host;
  return `http://${local.includes(':') ? `[${local}]` : local}:${port}`;
}

const SHORTHAND = new RegExp(`^(${ISSUER_SLUG.source.slice(1, -1)})/(${CERT_NUMBER.source.slice(1, -1)})$`);

/** Parses `<base>/v/<issuer>/<number>` (trailing slashes ignored) or `<issuer>/<number>`; null for anything else. */
export function parseCertificateRef(text: string): CertificateRef | null {
  const trimmed = text.trim();
  if (/^https?:\/\//i.test(trimmed)) {
    const id = trimmed.replace(/\/+$/, '');
    const parts = splitCertificateId(id);
    return parts === null ? null : { issuer: parts.issuer, number: parts.number, id, baseUrl: parts.baseUrl };
  }
  const m = SHORTHAND.exec(trimmed);
  return m === null ? null : { issuer: m[1]!, number: m[2]!, id: null, baseUrl: null };
}

/**
 * The registry to ask about `ref`, in the order every certrail command uses: `--registry`, else `$CERTRAIL_URL`,
 * else the registry a verify URL names (an id is its own address), else where `npm start` listens with this
 * environment. Asking another registry than the id names is safe: answers about another certificate are refused
 * (verify, status) and writes go only to a registry whose base URL is the id's (RegistryClient.certificateId).
 */
export function registryUrlFor(option: string | undefined, env: NodeJS.ProcessEnv, ref: CertificateRef | null): string {
  if (option || env.CERTRAIL_URL || !ref?.baseUrl) return registryUrlFrom(option, env);
  return ref.baseUrl;
}

export interface RequestOptions {
  body?: JsonValue;
  token?: string;
  idempotencyKey?: string;
  accept?: string;
}

/** A registry's HTTP API. Answers are parsed with the strict JSON parser; non-2xx answers throw ProblemError. */
export class RegistryClient {
  private wellKnownAnswer: Promise<WellKnown> | null = null;

  constructor(readonly url: string) {}

  /** The raw answer (status and text); throws only when the registry cannot be reached. */
  async fetchText(method: string, path: string, options: RequestOptions = {}): Promise<{ status: number; text: string; headers: Headers }> {
    const headers: Record<string, string> = { accept: options.accept ?? 'application/json' };
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    if (options.token !== undefined) headers.authorization = `Bearer ${options.token}`;
    if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers,
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
      });
    } catch (error) {
      const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
      throw new UnreachableError(`cannot reach the registry at ${this.url} (${cause}); is it running? (--registry URL or CERTRAIL_URL)`);
    }
    return { status: res.status, text: await res.text(), headers: res.headers };
  }

  /** A JSON answer; a non-2xx status throws ProblemError with the problem document. */
  async request(method: string, path: string, options: RequestOptions = {}): Promise<JsonValue> {
    const { status, text, headers } = await this.fetchText(method, path, options);
    let parsed: JsonValue;
    try {
      parsed = parseJsonStrict(text);
    } catch {
      parsed = text;
    }
    if (status < 200 || status > 299) throw new ProblemError(status, parsed, retryAfterSeconds(headers.get('retry-after')));
    return parsed;
  }

  async getObject(path: string): Promise<JsonObject> {
    const answer = await this.request('GET', path);
    if (!isJsonObject(answer)) throw new Error(`${this.url}${path} did not answer a JSON object`);
    return answer;
  }

  /** `/.well-known/certrail`, fetched once per client. */
  wellKnown(): Promise<WellKnown> {
    this.wellKnownAnswer ??= this.getObject('/.well-known/certrail').then((w) => {
      const { origin, logVerifierKey, registryKey, baseUrl, apiBase } = w;
      if (typeof origin !== 'string' || typeof logVerifierKey !== 'string' || typeof registryKey !== 'string'
        || typeof baseUrl !== 'string' || typeof apiBase !== 'string') {
        throw new Error(`${this.url}/.well-known/certrail is not a Certrail registry's`);
      }
      // The announced witness policy: [{ vkey, url }] (a bare vkey string is accepted too).
      const witnesses = (Array.isArray(w.witnesses) ? w.witnesses : [])
        .map((k) => (typeof k === 'string' ? k : isJsonObject(k) && typeof k.vkey === 'string' ? k.vkey : null))
        .filter((k): k is string => k !== null);
      const quorum = typeof w.quorum === 'number' && Number.isInteger(w.quorum) && w.quorum >= 0 ? w.quorum : 0;
      return { origin, logVerifierKey, registryKey, baseUrl, apiBase, witnesses, quorum };
    });
    return this.wellKnownAnswer;
  }

  /**
   * The id of `ref` at this registry. A URL must name this registry's base URL: otherwise the registry would be
   * answering about certificates it does not hold (a mirror or a mistake), and writes would be refused anyway.
   */
  async certificateId(ref: CertificateRef): Promise<string> {
    const { baseUrl } = await this.wellKnown();
    if (ref.baseUrl !== null && ref.baseUrl !== baseUrl) {
      throw new Error(`${this.url} is the registry of ${baseUrl}, not of ${ref.baseUrl} (check --registry)`);
    }
    return `${baseUrl}/v/${ref.issuer}/${ref.number}`;
  }
}

/** The registry could not be reached at all (as opposed to answering with a problem). */
export class UnreachableError extends Error {}

/** The `code` of a problem answer, if any. */
export function problemCode(error: unknown): string | null {
  if (!(error instanceof ProblemError) || !isJsonObject(error.problem)) return null;
  return typeof error.problem.code === 'string' ? error.problem.code : null;
}
