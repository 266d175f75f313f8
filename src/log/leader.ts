// Several server processes on one database file (DESIGN §Architecture: the write path is one sequencer). Exactly one
// process sequences the log: the holder of the database's sequencer lock (src/store/sqlite.ts trySequencerLock), an OS
// lock that dies with its process. Every other process follows: it serves reads from the same file and forwards
// writes to the leader's advertised loopback URL. A follower tries to take the lock every `takeoverMs`, so when the
// leader dies (even by SIGKILL) one follower takes over within about that time.
//
// Invariants:
// - Only the lock holder opens a Sequencer, and it opens it after taking the lock, from the stored state: a new leader
//   continues exactly the tree its predecessor committed. The commit compare-and-swap remains the backstop.
// - A follower never appends. A write that reaches it over HTTP is forwarded once (a forwarded request is never
//   forwarded again, so a stale advertisement cannot loop) or refused with 503 `unavailable` and Retry-After. A forward
//   that fails after the leader received it may or may not have been logged: the client retries with the same
//   Idempotency-Key and gets the original receipt.
// - Reads are current in every process: a follower re-reads the latest checkpoint whenever another connection
//   committed (PRAGMA data_version) before serving it, so a receipt returned through a follower proves there at once.
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { RegistryError } from '../core/errors.js';
import { problemResponse } from '../http/problem.js';
import type { LogStore, StoredCheckpoint } from '../store/log-store.js';
import type { SequencerLock } from '../store/sqlite.js';
import type { AppendResult, LogItem, Sequencer } from './sequencer.js';

export interface ElectionOptions {
  dbPath: string;
  store: LogStore;
  /** Takes the sequencer lock, or null while another process holds it. */
  tryLock(): SequencerLock | null;
  /** Changes whenever another connection committed to the database. */
  dataVersion(): number;
  /** Opens the sequencer from the stored state; called only while holding the lock. */
  openSequencer(): Promise<Sequencer>;
  /** Runs once this process holds the lock, before it accepts writes: reload what other leaders changed. */
  onLead?(): Promise<void>;
  /** How often a follower tries to take the lock (default 250 ms). */
  takeoverMs?: number;
}

/** The leader's advertisement, `<db>-sequencer.json`: where followers forward writes. */
interface Advertisement {
  url: string;
  pid: number;
  term: number;
}

/** Marks a request a follower forwarded; its receiver never forwards it again. */
export const FORWARDED_HEADER = 'certrail-forwarded-by';
/** A forward waits this long for the leader's answer. */
const FORWARD_TIMEOUT_MS = 30_000;
const HOP_BY_HOP = ['connection', 'keep-alive', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host', 'content-length', 'content-encoding'];

/** Whether a request may change the log: everything but GET/HEAD/OPTIONS and the read-only batch verification. */
export function isWriteRequest(request: Request): boolean {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return false;
  return !(request.method === 'POST' && new URL(request.url).pathname === '/api/v1/verify');
}

/** The sequencer as every process sees it: its own Sequencer while it leads, a refusal while it follows. */
export class ElectedSequencer {
  private sequencer: Sequencer | null = null;
  private lock: SequencerLock | null = null;
  /** The latest stored checkpoint this process has seen; start() returns only once there is one. */
  private stored: StoredCheckpoint | null;
  private seenVersion: number;
  private url: string | null = null;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly listeners: Array<(checkpoint: StoredCheckpoint) => void> = [];
  private electing: Promise<void> | null = null;

  private constructor(
    private readonly options: ElectionOptions,
    stored: StoredCheckpoint | null,
  ) {
    this.stored = stored;
    this.seenVersion = options.dataVersion();
    this.timer = setInterval(() => {
      if (!this.sequencer) void this.elect().catch((error) => console.error(`sequencer takeover failed: ${String(error)}`));
    }, options.takeoverMs ?? 250);
    this.timer.unref();
  }

  /** Takes the lead if the lock is free; otherwise follows (a fresh database waits for its leader's first checkpoint). */
  static async start(options: ElectionOptions): Promise<ElectedSequencer> {
    for (;;) {
      const elected = new ElectedSequencer(options, await options.store.latestCheckpoint());
      await elected.elect();
      if (elected.stored) return elected;
      await elected.close();
      await new Promise((resolve) => setTimeout(resolve, options.takeoverMs ?? 250));
    }
  }

  /** Whether this process sequences the log now. */
  get leading(): boolean {
    return this.sequencer !== null;
  }

  /** Null while this process accepts appends; otherwise why not (a follower forwards HTTP writes instead). */
  get refused(): string | null {
    if (!this.sequencer) return 'this process does not sequence the log (another process holds its sequencer lock)';
    return this.sequencer.refused;
  }

  /** The latest checkpoint this process knows (see latest() for one that is current across processes). */
  get checkpoint(): StoredCheckpoint {
    return this.sequencer?.checkpoint ?? this.stored!;
  }

  /** The latest checkpoint: the sequencer's own, or the stored one re-read whenever another process committed. */
  async latest(): Promise<StoredCheckpoint> {
    if (this.sequencer && this.sequencer.refused === null) return this.sequencer.checkpoint;
    // A refused sequencer's own last commit does not change data_version on its own connection.
    let latest = this.checkpoint;
    const version = this.options.dataVersion();
    if (version !== this.seenVersion) {
      this.seenVersion = version;
      const stored = await this.options.store.latestCheckpoint();
      if (stored && stored.size > latest.size) {
        latest = stored;
        this.notify(stored);
      }
    }
    this.stored = latest;
    return latest;
  }

  /** Like Sequencer.onCheckpoint, for every new checkpoint this process sequences or observes. */
  onCheckpoint(listener: (checkpoint: StoredCheckpoint) => void): void {
    this.listeners.push(listener);
  }

  append(item: Uint8Array | LogItem): Promise<AppendResult> {
    if (!this.sequencer) return Promise.reject(new RegistryError('unavailable', this.refused!));
    return this.sequencer.append(item);
  }

  async flush(): Promise<void> {
    await this.sequencer?.flush();
  }

  /** Sets the loopback URL where this process serves HTTP; advertised while (and whenever) it leads. */
  advertise(url: string): void {
    this.url = url;
    this.writeAdvertisement();
  }

  /** Forwards a write request to the leader and returns its answer, or a 503 problem when no leader answers. */
  async forward(request: Request): Promise<Response> {
    if (request.headers.has(FORWARDED_HEADER)) {
      return problemResponse('unavailable', 'this process does not sequence the log and does not forward twice; retry later');
    }
    const leader = this.readAdvertisement();
    if (!leader) return problemResponse('unavailable', 'no process sequences the log right now; retry later');
    const { pathname, search } = new URL(request.url);
    const headers = new Headers(request.headers);
    for (const name of HOP_BY_HOP) headers.delete(name);
    headers.set(FORWARDED_HEADER, String(process.pid));
    try {
      const answer = await fetch(`${leader.url}${pathname}${search}`, {
        method: request.method,
        headers,
        body: request.body,
        duplex: 'half',
        redirect: 'manual',
        signal: AbortSignal.timeout(FORWARD_TIMEOUT_MS),
      } as RequestInit);
      const answerHeaders = new Headers(answer.headers);
      for (const name of HOP_BY_HOP) answerHeaders.delete(name);
      return new Response(answer.body, { status: answer.status, headers: answerHeaders });
    } catch {
      return problemResponse(
        'unavailable',
        'the sequencing process did not answer; the write may or may not be logged: retry with the same Idempotency-Key',
      );
    }
  }

  /** Stops following, or flushes and stops sequencing: the advertisement is removed and the lock released. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.electing;
    if (!this.sequencer) return;
    await this.sequencer.flush();
    this.stored = this.sequencer.checkpoint;
    if (this.readAdvertisement()?.term === this.lock?.term) rmSync(this.advertisementPath, { force: true });
    this.sequencer = null;
    this.lock?.release();
    this.lock = null;
  }

  private elect(): Promise<void> {
    this.electing ??= this.takeLead().finally(() => {
      this.electing = null;
    });
    return this.electing;
  }

  private async takeLead(): Promise<void> {
    if (this.sequencer) return;
    const lock = this.options.tryLock();
    if (!lock) return;
    try {
      const sequencer = await this.options.openSequencer();
      await this.options.onLead?.();
      sequencer.onCheckpoint((checkpoint) => this.notify(checkpoint));
      this.lock = lock;
      this.sequencer = sequencer;
      this.stored = sequencer.checkpoint;
      clearInterval(this.timer);
    } catch (error) {
      lock.release();
      throw error;
    }
    this.writeAdvertisement();
  }

  private notify(checkpoint: StoredCheckpoint): void {
    for (const listener of this.listeners) {
      try {
        listener(checkpoint);
      } catch {
        // a listener never affects sequencing or reads
      }
    }
  }

  private get advertisementPath(): string {
    return `${this.options.dbPath}-sequencer.json`;
  }

  private writeAdvertisement(): void {
    if (!this.lock || this.url === null) return;
    const advertisement: Advertisement = { url: this.url, pid: process.pid, term: this.lock.term };
    const temporary = `${this.advertisementPath}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify(advertisement)}\n`);
    renameSync(temporary, this.advertisementPath);
  }

  private readAdvertisement(): Advertisement | null {
    try {
      const parsed = JSON.parse(readFileSync(this.advertisementPath, 'utf8')) as Partial<Advertisement>;
      return typeof parsed.url === 'string' && typeof parsed.term === 'number' ? (parsed as Advertisement) : null;
    } catch {
      return null;
    }
  }
}
