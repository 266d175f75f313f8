// The single writer of the log. It pools appends for up to `maxDelayMs` or `maxBatch` entries, then commits the batch,
// its tiles and the new signed checkpoint in one atomic store commit, and only then resolves the callers' promises.
//
// Invariants:
// - An append is acknowledged (its promise resolved) only after the commit holding it returned, so an acknowledged
//   entry is durable (the SQLite driver commits with synchronous=FULL).
// - The checkpoint is never rolled back: each commit compare-and-swaps on the previous checkpoint's size, and a writer
//   that loses the race (another process sequenced meanwhile) stops accepting writes rather than forking the log.
//   (Several processes on one file elect a single sequencer first: src/log/leader.ts; this is the backstop.)
// - A commit that fails for any other reason (disk full, read-only file, lock held elsewhere: a 503 to its callers)
//   leaves no in-memory trace: the right edge is reloaded from the database before the next batch, so the tree in
//   memory is always the stored one and the sequencer recovers by itself once the fault is gone.
// - At start the root recomputed from the stored right-edge tiles must equal the latest checkpoint's root; otherwise
//   the sequencer refuses writes (reads keep working) and reports why.
import { formatCheckpoint } from '../core/checkpoint.js';
import { bytesEqual } from '../core/bytes.js';
import { MAX_ENTRY_BYTES } from '../core/entry.js';
import { RegistryError } from '../core/errors.js';
import { emptyRoot, leafHash } from '../core/merkle.js';
import { signNote, type NoteSigner } from '../core/note.js';
import { rightEdgeTiles, rootFromTiles, TileBuilder } from '../core/tiles.js';
import type { IndexWrite, LogStore, StoredCheckpoint } from '../store/log-store.js';

export interface SequencerOptions {
  store: LogStore;
  signer: NoteSigner;
  /** The checkpoint origin line (C2SP tlog-checkpoint), e.g. `certrail.example.org/log`. */
  origin: string;
  /** Entries per commit at most. */
  maxBatch?: number;
  /** How long the first append of a pool waits for company before the pool is committed. */
  maxDelayMs?: number;
  now?: () => number;
}

/**
 * An entry whose bytes depend on its sequencing time, with the index rows that must commit atomically with it.
 * `entry` may throw (a RegistryError) to refuse this item alone; the rest of the batch goes on.
 */
export interface LogItem {
  entry(loggedAt: number): Uint8Array;
  /** `leaf` is the entry's leaf hash (RFC 9162 §2.1.1), computed once by the sequencer for the tree. */
  writes?(index: number, entry: Uint8Array, loggedAt: number, leaf: Uint8Array): IndexWrite[];
}

export interface AppendResult {
  index: number;
  entry: Uint8Array;
  /** leafHash(entry). */
  leafHash: Uint8Array;
  /** The log's sequencing time of the batch (ms), shared by all its entries and never decreasing. */
  loggedAt: number;
  /** The checkpoint that first includes the entry. */
  checkpoint: StoredCheckpoint;
}

interface Pending {
  item: LogItem;
  resolve: (result: AppendResult) => void;
  reject: (error: unknown) => void;
}

export class Sequencer {
  private readonly store: LogStore;
  private readonly signer: NoteSigner;
  private readonly origin: string;
  private readonly maxBatch: number;
  private readonly maxDelayMs: number;
  private readonly now: () => number;
  /** The in-memory right edge of the tree; null while writes are refused or the edge must be reloaded. */
  private builder: TileBuilder | null;
  private latest: StoredCheckpoint;
  /** Why writes are refused for good (integrity, another writer); null otherwise. */
  private refusal: string | null;
  /** Set after a failed commit: the next batch first reloads the right edge from the database. */
  private stale = false;
  private queue: Pending[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private draining: Promise<void> | null = null;
  private readonly listeners: Array<(checkpoint: StoredCheckpoint) => void> = [];

  private constructor(options: SequencerOptions, latest: StoredCheckpoint, edge: RightEdge) {
    this.store = options.store;
    this.signer = options.signer;
    this.origin = options.origin;
    this.maxBatch = options.maxBatch ?? 256;
    this.maxDelayMs = options.maxDelayMs ?? 2;
    this.now = options.now ?? Date.now;
    this.latest = latest;
    this.builder = edge.builder;
    this.refusal = edge.refusal;
  }

  /** Loads the right edge of the tree, checks it against the latest checkpoint, and signs the empty tree if new. */
  static async open(options: SequencerOptions): Promise<Sequencer> {
    const now = options.now ?? Date.now;
    let latest = await options.store.latestCheckpoint();
    if (!latest) {
      const root = emptyRoot();
      const note = await signNote(formatCheckpoint({ origin: options.origin, size: 0, root, extensions: [] }), [options.signer]);
      latest = { size: 0, root, note, createdAt: now() };
      await options.store.commit({ previousSize: 0, entries: [], tiles: [], checkpoint: latest });
    }
    return new Sequencer(options, latest, await loadRightEdge(options.store, latest));
  }

  /** Null while writes are accepted; otherwise why they are refused. */
  get refused(): string | null {
    return this.refusal;
  }

  get checkpoint(): StoredCheckpoint {
    return this.latest;
  }

  /**
   * Calls `listener` after each new checkpoint is committed (e.g. to ask witnesses for cosignatures). It runs
   * synchronously after the commit, before the appends resolve, so it must only start work, never block or throw.
   */
  onCheckpoint(listener: (checkpoint: StoredCheckpoint) => void): void {
    this.listeners.push(listener);
  }

  /** Appends raw entry bytes or an item built at sequencing time; resolves once the entry is durably committed. */
  append(item: Uint8Array | LogItem): Promise<AppendResult> {
    if (this.refusal) return Promise.reject(new RegistryError('unavailable', this.refusal));
    if (item instanceof Uint8Array) {
      const bytes = item;
      item = { entry: () => bytes };
    }
    return new Promise((resolve, reject) => {
      this.queue.push({ item, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.startDrain();
      else this.timer ??= setTimeout(() => this.startDrain(), this.maxDelayMs);
    });
  }

  /** Commits everything pooled so far and waits for it. */
  async flush(): Promise<void> {
    this.startDrain();
    while (this.draining) await this.draining;
  }

  private startDrain(): void {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    this.draining ??= this.drain().finally(() => {
      this.draining = null;
      if (this.queue.length > 0) this.startDrain();
    });
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.maxBatch);
      await this.commitBatch(batch);
    }
  }

  private async commitBatch(batch: Pending[]): Promise<void> {
    if (this.stale && !this.refusal) await this.resynchronise();
    const builder = this.builder;
    if (!builder || this.refusal || this.stale) {
      const reason = this.refusal ?? 'the log store cannot be read; retry later';
      for (const p of batch) p.reject(new RegistryError('unavailable', reason));
      return;
    }
    const previousSize = builder.size;
    const loggedAt = Math.max(this.now(), this.latest.createdAt);
    const accepted: Array<{ pending: Pending; entry: Uint8Array }> = [];
    for (const pending of batch) {
      try {
        const entry = pending.item.entry(loggedAt);
        if (entry.length > MAX_ENTRY_BYTES) {
          throw new RegistryError('entry-too-large', `entry is ${entry.length} bytes; at most ${MAX_ENTRY_BYTES}`);
        }
        accepted.push({ pending, entry });
      } catch (error) {
        pending.reject(error);
      }
    }
    if (accepted.length === 0) return;
    try {
      const entries = accepted.map((a) => a.entry);
      const leaves = entries.map(leafHash);
      const writes = accepted.flatMap((a, i) => a.pending.item.writes?.(previousSize + i, a.entry, loggedAt, leaves[i]!) ?? []);
      const tiles = builder.append(leaves);
      const root = builder.root();
      const size = builder.size;
      const note = await signNote(formatCheckpoint({ origin: this.origin, size, root, extensions: [] }), [this.signer]);
      // createdAt is the batch's loggedAt, so a restarted sequencer never hands out an earlier time.
      const checkpoint = { size, root, note, createdAt: loggedAt };
      await this.store.commit({ previousSize, entries, tiles, checkpoint, writes });
      this.latest = checkpoint;
      for (const listener of this.listeners) {
        try {
          listener(checkpoint);
        } catch {
          // a listener never affects the commit or its acknowledgements
        }
      }
      accepted.forEach((a, i) => a.pending.resolve({ index: previousSize + i, entry: a.entry, leafHash: leaves[i]!, loggedAt, checkpoint }));
    } catch (error) {
      // Nothing of this batch is acknowledged.
      if (error instanceof RegistryError && error.code === 'conflict') {
        // Another process sequenced this log: fail closed rather than fork it.
        this.builder = null;
        this.refusal = 'another writer sequenced this log; this process no longer accepts writes';
        for (const a of accepted) a.pending.reject(new RegistryError('unavailable', this.refusal));
        return;
      }
      // The store names transient faults (unavailable: disk full, read-only, locked); anything else stays opaque.
      const refusal =
        error instanceof RegistryError && error.code === 'unavailable'
          ? error
          : new RegistryError('unavailable', 'the log could not commit; retry later');
      for (const a of accepted) a.pending.reject(refusal);
      this.stale = true;
      await this.resynchronise();
    }
  }

  /**
   * Reloads the right edge and latest checkpoint from what is stored: the failed batch left no trace there, and a
   * commit error does not say whether the database holds it (a commit can fail after it is durable). If the store
   * cannot be read either, the sequencer stays stale and tries again before its next batch.
   */
  private async resynchronise(): Promise<void> {
    try {
      const latest = await this.store.latestCheckpoint();
      if (!latest) throw new Error('log has no checkpoint');
      const edge = await loadRightEdge(this.store, latest);
      this.latest = latest;
      this.builder = edge.builder;
      this.refusal = edge.refusal;
      this.stale = false;
    } catch {
      this.builder = null;
    }
  }
}

type RightEdge = { builder: TileBuilder; refusal: null } | { builder: null; refusal: string };

async function loadRightEdge(store: LogStore, latest: StoredCheckpoint): Promise<RightEdge> {
  const tiles = await store.readTiles(rightEdgeTiles(latest.size));
  try {
    const root = rootFromTiles(latest.size, tiles);
    if (!bytesEqual(root, latest.root)) {
      return { builder: null, refusal: `stored tiles do not reproduce the root of checkpoint ${latest.size}` };
    }
    return { builder: TileBuilder.fromRightEdge(latest.size, tiles), refusal: null };
  } catch (error) {
    const detail = error instanceof Error ? error.message : String(error);
    return { builder: null, refusal: `stored tiles are incomplete for checkpoint ${latest.size}: ${detail}` };
  }
}
