// The log side of witnessing (c2sp.org/tlog-witness): after each new checkpoint the registry asks every configured
// witness for a cosignature, with a consistency proof from the last size that witness cosigned, and serves the latest
// checkpoint with the cosignatures it has for exactly that checkpoint.
//
// Invariants:
// - Witnessing never blocks issuance: the sequencer only notifies (a synchronous call that starts background work);
//   appends never await a witness. A slow witness is cut off by a timeout, a failing one is retried with backoff.
// - At most one request per witness is in flight; checkpoints sequenced meanwhile are coalesced into the latest.
// - A cosignature is attached only after it verified with the witness's configured key over this checkpoint's text,
//   and only to the checkpoint of that size and root: the served note is the latest note plus the cosignatures of that
//   note, or the bare note until they arrive.
// - What each witness last cosigned is kept in memory only: after a restart the first request says `old 0`, and the
//   witness's 409 answer (text/x.tlog.size) tells the size to prove from; one extra round trip per witness and start.
import { bytesEqual, toHex } from '../core/bytes.js';
import { RegistryError } from '../core/errors.js';
import { addSignatureLines, openNote, parseNote, parseVerifierKey, SIG_TYPE_COSIGNATURE_V1, type NoteVerifier } from '../core/note.js';
import { formatAddCheckpointRequest, parseTreeSizeBody, TLOG_SIZE_MEDIA_TYPE } from '../core/tlog-witness.js';
import type { StoredCheckpoint } from '../store/log-store.js';

/** A witness as the registry is configured with it: its submission URL prefix and its cosignature/v1 verifier key. */
export interface WitnessEndpoint {
  url: string;
  vkey: string;
}

export type WitnessErrorKind =
  | 'ahead' // the witness cosigned a larger tree than ours: a rollback of this log, or another log with our key
  | 'root-mismatch' // 409: same size, other root
  | 'inconsistent' // 422: our consistency proof does not verify against what the witness holds
  | 'forbidden' // 403: the witness does not accept our log signature
  | 'unknown-log' // 404: the witness does not know our origin
  | 'bad-request' // 400
  | 'bad-response' // a 200 without a valid cosignature from the configured key, or a malformed 409
  | 'unavailable'; // network error, timeout, or another status

export class WitnessError extends Error {
  constructor(
    readonly kind: WitnessErrorKind,
    message: string,
  ) {
    super(message);
    this.name = 'WitnessError';
  }
}

/** Retries after a 409 with a witness-reported size before giving up on one checkpoint. */
const MAX_CONFLICT_RETRIES = 3;

/**
 * Parses `url1=vkey1,url2=vkey2` (CERTRAIL_WITNESSES); commas or whitespace separate witnesses. A URL may itself
 * contain `=`: the split is at the first `=` after which a valid cosignature/v1 verifier key follows.
 */
export function parseWitnessList(text: string): WitnessEndpoint[] {
  const out: WitnessEndpoint[] = [];
  for (const item of text.split(/[\s,]+/).filter((s) => s.length > 0)) {
    let parsed: WitnessEndpoint | null = null;
    for (let at = item.indexOf('='); at > 0 && !parsed; at = item.indexOf('=', at + 1)) {
      const url = item.slice(0, at);
      const vkey = item.slice(at + 1);
      try {
        if (parseVerifierKey(vkey).type !== SIG_TYPE_COSIGNATURE_V1) continue;
        const u = new URL(url);
        if (u.protocol !== 'http:' && u.protocol !== 'https:') continue;
        parsed = { url: url.replace(/\/+$/, ''), vkey };
      } catch {
        // not the split point
      }
    }
    if (!parsed) throw new Error(`witness "${item}": expected <http(s) URL>=<cosignature/v1 verifier key>`);
    out.push(parsed);
  }
  const names = new Set<string>();
  for (const w of out) {
    const name = parseVerifierKey(w.vkey).name;
    if (names.has(name)) throw new Error(`two witnesses share the key name ${name}`);
    names.add(name);
  }
  return out;
}

/** The default quorum for n witnesses: a majority. */
export function defaultWitnessQuorum(n: number): number {
  return n === 0 ? 0 : Math.floor(n / 2) + 1;
}

/** A client of one witness: builds add-checkpoint requests, follows 409 size answers, verifies the cosignature. */
export class WitnessClient {
  readonly url: string;
  readonly vkey: string;
  readonly verifier: NoteVerifier;
  /** The size this witness last cosigned for our origin, as far as we know (null: unknown, ask with old 0). */
  size: number | null = null;

  constructor(
    endpoint: WitnessEndpoint,
    private readonly options: { timeoutMs: number; fetch?: typeof fetch },
  ) {
    this.url = endpoint.url.replace(/\/+$/, '');
    this.vkey = endpoint.vkey;
    this.verifier = parseVerifierKey(endpoint.vkey);
    if (this.verifier.type !== SIG_TYPE_COSIGNATURE_V1) throw new Error(`${endpoint.vkey}: not a cosignature/v1 verifier key`);
  }

  get name(): string {
    return this.verifier.name;
  }

  /**
   * Asks for a cosignature of `checkpoint`, proving consistency from the size the witness last cosigned (learning it
   * from a 409 when unknown or outdated). Returns the verified signature line (without newline). Throws WitnessError.
   */
  async cosign(
    checkpoint: StoredCheckpoint,
    prove: (from: number, to: number) => Promise<Uint8Array[]>,
    signal?: AbortSignal,
  ): Promise<string> {
    const text = parseNote(checkpoint.note).text;
    for (let attempt = 0; attempt <= MAX_CONFLICT_RETRIES; attempt++) {
      const old = this.size ?? 0;
      if (old > checkpoint.size) {
        throw new WitnessError('ahead', `the witness cosigned size ${old}, larger than this log's ${checkpoint.size}`);
      }
      const proof = old > 0 && old < checkpoint.size ? await prove(old, checkpoint.size) : [];
      const body = formatAddCheckpointRequest({ oldSize: old, proof, checkpoint: checkpoint.note });
      const res = await this.post(body, signal);
      const contentType = res.headers.get('content-type') ?? '';
      const answer = await res.text();
      switch (res.status) {
        case 200: {
          const line = await this.verifiedLine(text, answer);
          this.size = checkpoint.size;
          return line;
        }
        case 409: {
          if (!contentType.toLowerCase().startsWith(TLOG_SIZE_MEDIA_TYPE)) {
            throw new WitnessError('root-mismatch', `the witness cosigned another root at size ${checkpoint.size}`);
          }
          const size = parseTreeSizeBody(answer);
          if (size === null) throw new WitnessError('bad-response', 'a 409 answer without a tree size');
          if (size === old) throw new WitnessError('bad-response', `the witness refused old size ${old} naming that same size`);
          this.size = size;
          continue;
        }
        case 422:
          throw new WitnessError('inconsistent', `the witness rejected the consistency proof ${old} -> ${checkpoint.size}`);
        case 403:
          throw new WitnessError('forbidden', 'the witness does not accept the log signature');
        case 404:
          throw new WitnessError('unknown-log', 'the witness does not know this log origin');
        case 400:
          throw new WitnessError('bad-request', `the witness refused the request: ${answer.trim().slice(0, 200)}`);
        default:
          throw new WitnessError('unavailable', `HTTP ${res.status}`);
      }
    }
    throw new WitnessError('unavailable', `the witness's size kept changing (${MAX_CONFLICT_RETRIES} retries)`);
  }

  private async post(body: string, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.options.timeoutMs);
    try {
      return await (this.options.fetch ?? fetch)(`${this.url}/add-checkpoint`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain; charset=utf-8' },
        body,
        signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
      });
    } catch (error) {
      const timedOut = timeout.aborted;
      throw new WitnessError('unavailable', timedOut ? `no answer within ${this.options.timeoutMs} ms` : `unreachable: ${message(error)}`);
    }
  }

  /** tlog-witness: ignore cosignatures from unknown keys; ours must verify over this checkpoint's text. */
  private async verifiedLine(text: string, answer: string): Promise<string> {
    for (const line of answer.split('\n')) {
      if (line.length === 0) continue;
      try {
        const opened = await openNote(`${text}\n${line}\n`, [this.verifier]);
        if (opened.verified.length > 0) return line;
      } catch {
        // not a valid line from this witness's key
      }
    }
    throw new WitnessError('bad-response', 'the answer holds no valid cosignature from the configured key');
  }
}

export interface WitnessingOptions {
  witnesses: readonly WitnessEndpoint[];
  /** RFC 9162 consistency proof between two sizes of this log (1 <= from < to <= latest size). */
  prove(from: number, to: number): Promise<Uint8Array[]>;
  /** Per request; a slower witness is skipped for this checkpoint. Default 5 s. */
  timeoutMs?: number;
  /** The first retry delay after a failure, doubling up to maxRetryMs. Default 1 s. */
  retryMs?: number;
  maxRetryMs?: number;
  /** Called when a witness fails (once per distinct message in a row). Default: console.warn. */
  onError?(witness: WitnessClient, error: WitnessError): void;
  fetch?: typeof fetch;
}

interface Slot {
  client: WitnessClient;
  running: boolean;
  timer: ReturnType<typeof setTimeout> | null;
  backoff: number;
  /** The latest cosignature obtained: for which checkpoint, and its line. */
  cosigned: { size: number; root: Uint8Array; line: string } | null;
  error: WitnessError | null;
  reported: string | null;
}

export interface WitnessStatus {
  url: string;
  vkey: string;
  /** The size the witness last cosigned, as far as this process knows. */
  size: number | null;
  /** The size of the latest cosignature held. */
  cosignedSize: number | null;
  error: { kind: WitnessErrorKind; message: string } | null;
}

export class Witnessing {
  private readonly slots: Slot[];
  private latest: StoredCheckpoint;
  private closed = false;
  private readonly abort = new AbortController();
  private readonly retryMs: number;
  private readonly maxRetryMs: number;
  private servedCache: { key: string; checkpoint: StoredCheckpoint } | null = null;
  private waiters: Array<() => void> = [];

  constructor(
    private readonly options: WitnessingOptions,
    initial: StoredCheckpoint,
  ) {
    const timeoutMs = options.timeoutMs ?? 5000;
    this.slots = options.witnesses.map((w) => ({
      client: new WitnessClient(w, { timeoutMs, ...(options.fetch ? { fetch: options.fetch } : {}) }),
      running: false,
      timer: null,
      backoff: 0,
      cosigned: null,
      error: null,
      reported: null,
    }));
    this.retryMs = options.retryMs ?? 1000;
    this.maxRetryMs = options.maxRetryMs ?? 30_000;
    this.latest = initial;
    for (const slot of this.slots) void this.run(slot);
  }

  /** A new checkpoint was committed: ask every witness (in the background) for a cosignature. Never throws. */
  notify(checkpoint: StoredCheckpoint): void {
    if (this.closed || checkpoint.size < this.latest.size) return;
    this.latest = checkpoint;
    for (const slot of this.slots) void this.run(slot);
  }

  /**
   * `checkpoint` (the latest one) with the cosignatures held for exactly it, in configured witness order; the bare
   * note when none are held.
   */
  served(checkpoint: StoredCheckpoint): StoredCheckpoint {
    const lines = this.slots
      .map((s) => s.cosigned)
      .filter((c) => c !== null && c.size === checkpoint.size && bytesEqual(c.root, checkpoint.root))
      .map((c) => c!.line);
    if (lines.length === 0) return checkpoint;
    const key = `${checkpoint.size}:${toHex(checkpoint.root)}:${lines.join('\n')}`;
    if (this.servedCache?.key !== key) {
      this.servedCache = { key, checkpoint: { ...checkpoint, note: addSignatureLines(checkpoint.note, lines) } };
    }
    return this.servedCache.checkpoint;
  }

  status(): WitnessStatus[] {
    return this.slots.map((s) => ({
      url: s.client.url,
      vkey: s.client.vkey,
      size: s.client.size,
      cosignedSize: s.cosigned?.size ?? null,
      error: s.error ? { kind: s.error.kind, message: s.error.message } : null,
    }));
  }

  /** Resolves when no request is in flight (retries may still be scheduled). For tests and orderly shutdown. */
  async settled(): Promise<void> {
    while (this.slots.some((s) => s.running)) await new Promise<void>((resolve) => this.waiters.push(resolve));
  }

  /** Stops retries and aborts requests in flight. */
  close(): void {
    this.closed = true;
    this.abort.abort();
    for (const slot of this.slots) {
      if (slot.timer) clearTimeout(slot.timer);
      slot.timer = null;
    }
  }

  private async run(slot: Slot): Promise<void> {
    if (slot.running || slot.timer || this.closed) return;
    slot.running = true;
    try {
      for (;;) {
        const target = this.latest;
        if (this.closed || (slot.cosigned && slot.cosigned.size >= target.size)) break;
        try {
          const line = await slot.client.cosign(target, this.options.prove, this.abort.signal);
          slot.cosigned = { size: target.size, root: target.root, line };
          slot.backoff = 0;
          slot.error = null;
          slot.reported = null;
        } catch (error) {
          if (this.closed) break;
          this.fail(slot, error instanceof WitnessError ? error : new WitnessError('unavailable', message(error)));
          break;
        }
      }
    } finally {
      slot.running = false;
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  private fail(slot: Slot, error: WitnessError): void {
    slot.error = error;
    const text = `${error.kind}: ${error.message}`;
    if (slot.reported !== text) {
      slot.reported = text;
      if (this.options.onError) this.options.onError(slot.client, error);
      else console.warn(`witness ${slot.client.name} (${slot.client.url}): ${text}`);
    }
    slot.backoff = slot.backoff === 0 ? this.retryMs : Math.min(slot.backoff * 2, this.maxRetryMs);
    slot.timer = setTimeout(() => {
      slot.timer = null;
      void this.run(slot);
    }, slot.backoff);
    slot.timer.unref?.();
  }
}

function message(error: unknown): string {
  return error instanceof RegistryError ? error.detail : error instanceof Error ? error.message : String(error);
}
