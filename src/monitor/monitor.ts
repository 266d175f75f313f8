// `certrail monitor`: mirrors a Certrail log over its public HTTP endpoints (C2SP tlog-tiles: /log/checkpoint,
// /log/tile/…, /log/tile/entries/…, plus /log/proof/consistency and /.well-known/certrail) into a local SQLite file,
// only what is new since the last run, and verifies everything itself with src/core:
//
// - the checkpoint's log signature (the log key pinned on first use, or given), and every cosignature from a witness
//   of the policy (a missing cosignature is a warning: the newest checkpoint may not be cosigned yet);
// - consistency with every checkpoint seen before: a smaller size than seen (rollback), the same size with another
//   root (fork), or a consistency proof from the last verified checkpoint that fails (fork, rewritten history);
// - entry bundles against hash tiles (each entry's leaf hash is in the level-0 tile), higher tiles against the tree,
//   and the root recomputed from all entries against the signed root;
// - every entry (src/monitor/entries.ts): signatures, certificate event chains, key validity at loggedAt.
//
// Every accepted checkpoint is kept, so the next run continues from it and can prove a later rollback or fork.
// Anomalies are kept with their evidence (the conflicting signed notes). A mirror whose entries did not reproduce the
// signed root is halted: later runs report that instead of building on unverified data.
import { hash } from 'node:crypto';
import { bytesEqual, fromBase64, toHex } from '../core/bytes.js';
import { parseCheckpoint, type Checkpoint } from '../core/checkpoint.js';
import { useSha256 } from '../core/crypto.js';
import { RegistryError } from '../core/errors.js';
import { isJsonObject, parseJsonStrict, type JsonValue } from '../core/json.js';
import { emptyRoot, leafHash, verifyConsistency } from '../core/merkle.js';
import { decodeMultikey } from '../core/multibase.js';
import { openNote, parseNote, parseVerifierKey, SIG_TYPE_COSIGNATURE_V1, SIG_TYPE_ED25519, type NoteVerifier } from '../core/note.js';
import { decodeEntryBundle, entriesPath, rightEdgeTiles, rootFromTiles, tileKey, tilePath, TileBuilder, TILE_WIDTH } from '../core/tiles.js';
import type { AnalyzedEntry } from './analyze.js';
import { EntryChecker, verifySignatures, type EntryAnomaly, type EntryAnomalyKind, type SignatureJob } from './entries.js';
import { analysisPool, defaultWorkers } from './pool.js';
import { MonitorStore, type MirrorCounts, type SeenCheckpoint } from './store.js';

// Node's native SHA-256 is several times faster than the pure-JS one for leaf and node hashes.
useSha256((data) => hash('sha256', data, 'buffer'));

export type AnomalyKind =
  | EntryAnomalyKind
  | 'identity-changed'
  | 'bad-checkpoint'
  | 'bad-cosignature'
  | 'rollback'
  | 'fork'
  | 'inconsistent'
  | 'missing-data'
  | 'tile-mismatch'
  | 'root-mismatch'
  | 'halted';

export interface Anomaly {
  kind: AnomalyKind;
  detail: string;
  /** The log index it concerns, for entry anomalies. */
  index?: number;
}

export interface MonitorOptions {
  /** The registry's base URL. */
  url: string;
  /** The monitor's SQLite file. */
  dbPath: string;
  /** The log's verifier key; default: what /.well-known/certrail announced on the first run (then pinned). */
  logKey?: string | undefined;
  /** Witness verifier keys (cosignature/v1) and quorum; default: the registry's announced witness policy. */
  witnesses?: readonly string[] | undefined;
  quorum?: number | undefined;
  onProgress?: ((done: number, total: number) => void) | undefined;
  fetch?: typeof fetch;
  /** Tiles fetched (and analyzed) ahead of the one being checked (default 8). */
  prefetch?: number;
  /** Worker threads analyzing entries (default one per core, at most 4; 0: in this thread). */
  workers?: number;
  /** Per HTTP request (default 30 s). */
  timeoutMs?: number;
  now?: () => number;
}

export interface MonitorReport {
  url: string;
  origin: string | null;
  /** The checkpoint the log served on this run, as verified. */
  checkpoint: { size: number; root: string; cosigners: string[]; witnesses: number; quorum: number } | null;
  /** The verified tree size before and after this run. */
  previousSize: number;
  size: number;
  newEntries: number;
  seconds: number;
  entriesPerSecond: number;
  totals: MirrorCounts;
  anomalies: Anomaly[];
  /** Anomalies of this run left out of `anomalies` (the full list is in the monitor file). */
  moreAnomalies: number;
  warnings: string[];
  ok: boolean;
  /** This process (with its worker threads): resident memory at the end of the run, its peak, CPU time so far. */
  resources: { rssMB: number; maxRssMB: number; cpuSeconds: number };
}

/** Entry anomalies kept per run; beyond this they are counted only. */
const MAX_REPORTED_ANOMALIES = 1000;
/** Tiles (of 256 entries) per transaction while catching up. */
const CHUNK_TILES = 16;
const HASH_BYTES = 32;

class StopRun extends Error {}

/** GET requests to the log with a timeout and a few retries for transient failures. */
class LogClient {
  constructor(
    readonly base: string,
    private readonly fetchFn: typeof fetch,
    private readonly timeoutMs: number,
  ) {}

  /**
   * The body, or null for 404. Throws on other failures. Every request asks caches to revalidate: a checkpoint a CDN
   * kept for its max-age must not pass for the log going back.
   */
  async get(path: string): Promise<Uint8Array | null> {
    let lastError: unknown;
    for (let attempt = 0; attempt < 3; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 200 * attempt));
      try {
        const res = await this.fetchFn(`${this.base}${path}`, {
          headers: path === '/log/checkpoint' ? { 'cache-control': 'no-cache' } : {},
          signal: AbortSignal.timeout(this.timeoutMs),
        });
        if (res.status === 404) {
          await res.body?.cancel();
          return null;
        }
        if (res.status >= 500 || res.status === 429) {
          lastError = new Error(`GET ${path}: HTTP ${res.status}`);
          await res.body?.cancel();
          continue;
        }
        if (res.status !== 200) {
          await res.body?.cancel();
          throw new RegistryError('bad-request', `GET ${path}: HTTP ${res.status}`);
        }
        return new Uint8Array(await res.arrayBuffer());
      } catch (error) {
        if (error instanceof RegistryError) throw error;
        lastError = error;
      }
    }
    throw new Error(`${this.base}${path}: ${lastError instanceof Error ? lastError.message : String(lastError)}`);
  }

  async text(path: string): Promise<string | null> {
    const body = await this.get(path);
    return body === null ? null : new TextDecoder('utf-8', { fatal: true }).decode(body);
  }

  async json(path: string): Promise<JsonValue | null> {
    const text = await this.text(path);
    return text === null ? null : parseJsonStrict(text);
  }
}

interface Policy {
  origin: string;
  log: NoteVerifier;
  logKey: string;
  registryKey: Uint8Array | null;
  witnesses: NoteVerifier[];
  quorum: number;
}

function message(error: unknown): string {
  return error instanceof RegistryError ? error.detail : error instanceof Error ? error.message : String(error);
}

function short(root: Uint8Array): string {
  return `${toHex(root).slice(0, 16)}…`;
}

/** Runs the monitor once: catches up with the log's current checkpoint and checks everything new. */
export async function runMonitor(options: MonitorOptions): Promise<MonitorReport> {
  const store = MonitorStore.open(options.dbPath);
  try {
    return await new MonitorRun(store, options).run();
  } finally {
    store.close();
  }
}

class MonitorRun {
  private readonly client: LogClient;
  private readonly now: () => number;
  private readonly anomalies: Anomaly[] = [];
  private moreAnomalies = 0;
  private readonly warnings: string[] = [];
  /** Anomalies to keep in the monitor file; written after any open transaction is closed. */
  private readonly evidence: Array<{ seenAt: number; kind: AnomalyKind; detail: string; evidence: string | null }> = [];
  private readonly report: MonitorReport;
  private readonly started = Date.now();

  constructor(
    private readonly store: MonitorStore,
    private readonly options: MonitorOptions,
  ) {
    this.client = new LogClient(options.url.replace(/\/+$/, ''), options.fetch ?? fetch, options.timeoutMs ?? 30_000);
    this.now = options.now ?? Date.now;
    const size = store.numberMeta('verifiedSize', 0);
    this.report = {
      url: this.client.base,
      origin: store.meta('origin'),
      checkpoint: null,
      previousSize: size,
      size,
      newEntries: 0,
      seconds: 0,
      entriesPerSecond: 0,
      totals: store.counts(),
      anomalies: this.anomalies,
      moreAnomalies: 0,
      warnings: this.warnings,
      ok: true,
      resources: { rssMB: 0, maxRssMB: 0, cpuSeconds: 0 },
    };
  }

  /** Records an anomaly in the report and, with its evidence, in the monitor file (written at the end of the run). */
  private anomaly(kind: AnomalyKind, detail: string, evidence: string | null = null, index?: number): void {
    if (this.anomalies.length < MAX_REPORTED_ANOMALIES) {
      this.anomalies.push(index === undefined ? { kind, detail } : { kind, detail, index });
      this.evidence.push({ seenAt: this.now(), kind, detail, evidence });
    } else {
      this.moreAnomalies++;
    }
  }

  async run(): Promise<MonitorReport> {
    try {
      const halted = this.store.meta('halted');
      if (halted) {
        this.anomaly('halted', `this mirror was halted by an earlier run: ${halted} (the evidence is in ${this.options.dbPath})`);
      } else {
        await this.check();
      }
    } catch (error) {
      if (!(error instanceof StopRun)) throw error;
    } finally {
      this.store.rollback();
      this.store.transaction(() => {
        for (const a of this.evidence) this.store.addAnomaly(a.seenAt, a.kind, a.detail, a.evidence);
      });
    }
    const seconds = (Date.now() - this.started) / 1000;
    this.report.seconds = seconds;
    this.report.entriesPerSecond = seconds > 0 ? Math.round(this.report.newEntries / seconds) : 0;
    this.report.size = this.store.numberMeta('verifiedSize', 0);
    this.report.totals = this.store.counts();
    this.report.moreAnomalies = this.moreAnomalies;
    this.report.ok = this.anomalies.length === 0;
    const cpu = process.cpuUsage();
    this.report.resources = {
      rssMB: Math.round(process.memoryUsage().rss / 1e5) / 10,
      maxRssMB: Math.round(process.resourceUsage().maxRSS / 1e2) / 10,
      cpuSeconds: Math.round((cpu.user + cpu.system) / 1e4) / 100,
    };
    return this.report;
  }

  private async check(): Promise<void> {
    const policy = await this.policy();
    this.report.origin = policy.origin;

    // The checkpoint: log signature, origin, cosignatures.
    const note = await this.client.text('/log/checkpoint');
    if (note === null) throw new Error(`${this.client.base}/log/checkpoint: not found`);
    let checkpoint: Checkpoint;
    try {
      const opened = await openNote(note, [policy.log]);
      checkpoint = parseCheckpoint(opened.text);
    } catch (error) {
      this.anomaly('bad-checkpoint', `the served checkpoint does not verify with the log key: ${message(error)}`, note);
      throw new StopRun();
    }
    if (checkpoint.origin !== policy.origin) {
      this.anomaly('bad-checkpoint', `the served checkpoint names origin ${checkpoint.origin}, not ${policy.origin}`, note);
      throw new StopRun();
    }
    const cosigners = await this.cosigners(note, policy);
    this.report.checkpoint = {
      size: checkpoint.size,
      root: toHex(checkpoint.root),
      cosigners,
      witnesses: policy.witnesses.length,
      quorum: policy.quorum,
    };
    if (cosigners.length < policy.quorum) {
      this.warnings.push(
        `checkpoint ${checkpoint.size} carries ${cosigners.length} of the ${policy.quorum} cosignatures the witness policy needs (new checkpoints are cosigned within moments; a lasting shortfall means a witness is down or refuses this log)`,
      );
    }

    // Against what was seen before.
    const verifiedSize = this.store.numberMeta('verifiedSize', 0);
    const verified = this.store.largestCheckpoint();
    if (verified) await this.compare(verified, checkpoint, note);
    else if (checkpoint.size === 0 && !bytesEqual(checkpoint.root, emptyRoot())) {
      this.anomaly('root-mismatch', 'the checkpoint of the empty log does not name the empty tree root', note);
      throw new StopRun();
    }

    if (checkpoint.size > verifiedSize || !verified) await this.mirror(checkpoint, note, policy);
  }

  /** The trust policy: the pinned identity (first run: announced), the witness policy (given or announced). */
  private async policy(): Promise<Policy> {
    const wk = await this.client.json('/.well-known/certrail');
    if (!isJsonObject(wk) || typeof wk.origin !== 'string' || typeof wk.logVerifierKey !== 'string') {
      throw new Error(`${this.client.base}/.well-known/certrail is not a Certrail registry's`);
    }
    const pinnedKey = this.store.meta('logVerifierKey');
    const pinnedRegistryKey = this.store.meta('registryKey');
    const logKey = this.options.logKey ?? pinnedKey ?? wk.logVerifierKey;
    if (pinnedKey !== null && logKey !== pinnedKey) {
      throw new Error(`this monitor file follows the log ${pinnedKey}, not ${logKey}; use another --db for another log`);
    }
    const log = parseVerifierKey(logKey);
    if (log.type !== SIG_TYPE_ED25519) throw new Error(`${logKey} is not a log (Ed25519 note) verifier key`);
    if (wk.logVerifierKey !== logKey) {
      this.anomaly('identity-changed', `the registry announces the log key ${wk.logVerifierKey}, but this monitor follows ${logKey}`);
    }
    if (wk.origin !== log.name) {
      this.anomaly('identity-changed', `the registry announces origin ${wk.origin}, but the log key is named ${log.name}`);
    }
    const announcedRegistryKey = typeof wk.registryKey === 'string' ? wk.registryKey : null;
    const registryKeyText = pinnedRegistryKey ?? announcedRegistryKey;
    if (pinnedRegistryKey !== null && announcedRegistryKey !== pinnedRegistryKey) {
      this.anomaly('identity-changed', `the registry announces the registry key ${String(announcedRegistryKey)}, but it was ${pinnedRegistryKey}`);
    }
    if (pinnedKey === null) {
      this.store.transaction(() => {
        this.store.setMeta('logVerifierKey', logKey);
        this.store.setMeta('origin', log.name);
        if (registryKeyText !== null) this.store.setMeta('registryKey', registryKeyText);
      });
    }
    this.store.setMeta('url', this.client.base);

    let witnessKeys: string[] = [];
    let quorum = 0;
    if (this.options.witnesses) {
      witnessKeys = [...this.options.witnesses];
      quorum = this.options.quorum ?? witnessKeys.length;
    } else {
      if (Array.isArray(wk.witnesses)) {
        for (const w of wk.witnesses) {
          if (typeof w === 'string') witnessKeys.push(w);
          else if (isJsonObject(w) && typeof w.vkey === 'string') witnessKeys.push(w.vkey);
        }
      }
      quorum = this.options.quorum ?? (typeof wk.quorum === 'number' && Number.isInteger(wk.quorum) ? wk.quorum : 0);
    }
    const witnesses = witnessKeys.map((k) => {
      const v = parseVerifierKey(k);
      if (v.type !== SIG_TYPE_COSIGNATURE_V1) throw new Error(`${k} is not a cosignature/v1 witness key`);
      return v;
    });
    if (quorum < 0 || quorum > witnesses.length) throw new Error(`quorum ${quorum} is not between 0 and ${witnesses.length}`);
    return {
      origin: log.name,
      log,
      logKey,
      registryKey: registryKeyText === null ? null : decodeMultikey(registryKeyText),
      witnesses,
      quorum,
    };
  }

  /** Names of the policy witnesses whose cosignature verifies; an invalid one is an anomaly. */
  private async cosigners(note: string, policy: Policy): Promise<string[]> {
    const { text, signatures } = parseNote(note);
    const names: string[] = [];
    for (const witness of policy.witnesses) {
      const lines = signatures.filter((s) => s.name === witness.name && toHex(s.keyId) === toHex(witness.keyId));
      if (lines.length === 0) continue;
      let ok = true;
      for (const line of lines) {
        try {
          await openNote(`${text}\n${line.line}\n`, [witness]);
        } catch {
          ok = false;
        }
      }
      if (ok) names.push(witness.name);
      else this.anomaly('bad-cosignature', `the checkpoint carries a cosignature of witness ${witness.name} that does not verify`, note);
    }
    return names;
  }

  /** Rollback and fork detection against the last verified checkpoint (the largest seen). */
  private async compare(verified: SeenCheckpoint, checkpoint: Checkpoint, note: string): Promise<void> {
    const evidence = `served now:\n${note}\nverified before (seen ${new Date(verified.seenAt).toISOString()}):\n${verified.note}`;
    if (checkpoint.size < verified.size) {
      const seen = this.store.checkpoint(checkpoint.size);
      const prefix = seen?.root ?? this.prefixRoot(checkpoint.size);
      const sameTree = prefix !== null && bytesEqual(prefix, checkpoint.root);
      this.anomaly(
        'rollback',
        `the log serves a checkpoint of size ${checkpoint.size} after this monitor verified size ${verified.size}: it went back ${verified.size - checkpoint.size} entries`,
        evidence,
      );
      if (!sameTree) {
        this.anomaly(
          'fork',
          `checkpoint ${checkpoint.size} (root ${short(checkpoint.root)}) is not the tree this monitor mirrored at that size${prefix ? ` (root ${short(prefix)})` : ''}`,
          evidence,
        );
      }
      throw new StopRun();
    }
    if (checkpoint.size === verified.size) {
      if (!bytesEqual(checkpoint.root, verified.root)) {
        this.anomaly(
          'fork',
          `checkpoint ${checkpoint.size} has root ${short(checkpoint.root)}, but this monitor verified root ${short(verified.root)} at that size`,
          evidence,
        );
        await this.locateDivergence(checkpoint);
        throw new StopRun();
      }
      return;
    }
    if (verified.size === 0) return;
    const answer = await this.client.json(`/log/proof/consistency?from=${verified.size}&to=${checkpoint.size}`);
    let proof: Uint8Array[] | null = null;
    if (isJsonObject(answer) && Array.isArray(answer.proof) && answer.proof.every((p) => typeof p === 'string')) {
      try {
        proof = (answer.proof as string[]).map(fromBase64);
      } catch {
        proof = null;
      }
    }
    if (!proof || !verifyConsistency(verified.size, checkpoint.size, verified.root, checkpoint.root, proof)) {
      this.anomaly(
        'inconsistent',
        `checkpoint ${checkpoint.size} is not an append-only extension of checkpoint ${verified.size} verified before: ${proof ? 'the consistency proof does not verify' : 'the log gives no consistency proof'}; the log forked or rewrote its history`,
        evidence,
      );
      await this.locateDivergence(checkpoint);
      throw new StopRun();
    }
  }

  /** The root of the mirrored tree at `size` (≤ the mirrored size), from stored tiles; null if unavailable. */
  private prefixRoot(size: number): Uint8Array | null {
    if (size > this.store.numberMeta('mirroredSize', 0)) return null;
    try {
      return rootFromTiles(size, this.store.tiles(rightEdgeTiles(size)));
    } catch {
      return null;
    }
  }

  /** Finds the first entry where the served tree differs from the mirror (binary search over level-0 tiles). */
  private async locateDivergence(checkpoint: Checkpoint): Promise<void> {
    const common = Math.min(checkpoint.size, this.store.numberMeta('mirroredSize', 0));
    const tiles = Math.ceil(common / TILE_WIDTH);
    const differs = async (t: number): Promise<number | null> => {
      const width = Math.min(TILE_WIDTH, common - t * TILE_WIDTH);
      const servedWidth = Math.min(TILE_WIDTH, checkpoint.size - t * TILE_WIDTH);
      const served = await this.client.get(`/log/${tilePath({ level: 0, index: t, width: servedWidth })}`);
      const mine = this.store.tile(0, t);
      if (!served || !mine) return 0;
      for (let i = 0; i < width; i++) {
        const a = served.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
        const b = mine.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
        if (a.length !== HASH_BYTES || !bytesEqual(a, b)) return i;
      }
      return null;
    };
    try {
      let lo = 0;
      let hi = tiles; // the first differing tile is in [lo, hi]; hi == tiles means none differs
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        if ((await differs(mid)) === null) lo = mid + 1;
        else hi = mid;
      }
      if (lo < tiles) {
        const at = await differs(lo);
        const index = lo * TILE_WIDTH + (at ?? 0);
        this.warnings.push(`the served tree differs from the mirrored one from entry ${index} on`);
      }
    } catch (error) {
      this.warnings.push(`could not locate where the trees diverge: ${message(error)}`);
    }
  }

  /** Mirrors and checks entries from the mirrored size up to `checkpoint`, then checks the root. */
  private async mirror(checkpoint: Checkpoint, note: string, policy: Policy): Promise<void> {
    const store = this.store;
    const start = store.numberMeta('mirroredSize', 0);
    const size = checkpoint.size;
    if (start > size) {
      // An interrupted earlier run mirrored beyond this (consistent) checkpoint: those entries are not yet covered by
      // a signed root, so this run checks nothing new; the next larger checkpoint will.
      return;
    }
    let builder: TileBuilder;
    try {
      builder = TileBuilder.fromRightEdge(start, store.tiles(rightEdgeTiles(start)));
    } catch (error) {
      throw new Error(`${this.options.dbPath} is damaged: ${message(error)}`);
    }
    const checker = new EntryChecker(store, store.counts(), store.numberMeta('lastLoggedAt', 0));
    const pool = analysisPool(size > start ? (this.options.workers ?? defaultWorkers()) : 0);
    const total = size - start;
    let done = 0;
    this.options.onProgress?.(0, total);

    const firstTile = Math.floor(start / TILE_WIDTH);
    const endTile = Math.ceil(size / TILE_WIDTH);
    const prefetch = Math.max(1, this.options.prefetch ?? 8);
    type Fetched = { bundle: Uint8Array | null; tile: Uint8Array | null; analysis: Promise<AnalyzedEntry[]> | null };
    const pending = new Map<number, Promise<Fetched>>();
    const request = (t: number) => {
      if (t >= endTile || pending.has(t)) return;
      const tileStart = t * TILE_WIDTH;
      const width = Math.min(TILE_WIDTH, size - tileStart);
      const skip = Math.max(start, tileStart) - tileStart;
      const p = Promise.all([
        this.client.get(`/log/${entriesPath(t, width)}`),
        this.client.get(`/log/${tilePath({ level: 0, index: t, width })}`),
      ]).then(([bundle, tile]): Fetched => {
        // The stateless checks start at once, in a worker, with the keys known so far.
        const analysis = bundle
          ? pool.run({ start: tileStart + skip, bundle, count: width, skip, keys: checker.keySnapshot(), registryKey: policy.registryKey })
          : null;
        analysis?.catch(() => undefined);
        return { bundle, tile, analysis };
      });
      p.catch(() => undefined); // awaited below; never an unhandled rejection when the run stops early
      pending.set(t, p);
    };

    let inChunk = 0;
    let jobs: SignatureJob[] = [];
    let chunkAnomalies: EntryAnomaly[] = [];
    const commitChunk = async (mirrored: number) => {
      const failed = await verifySignatures(jobs);
      for (const a of [...chunkAnomalies, ...failed].sort((x, y) => x.index - y.index)) this.anomaly(a.kind, a.detail, null, a.index);
      store.setMeta('mirroredSize', String(mirrored));
      store.setMeta('lastLoggedAt', String(checker.lastLoggedAt));
      store.setCounts(checker.counts);
      store.commit();
      jobs = [];
      chunkAnomalies = [];
      inChunk = 0;
    };

    store.begin();
    try {
      for (let t = firstTile; t < endTile; t++) {
        for (let ahead = t; ahead < t + prefetch; ahead++) request(ahead);
        const fetched = await pending.get(t)!;
        pending.delete(t);
        const tileStart = t * TILE_WIDTH;
        const width = Math.min(TILE_WIDTH, size - tileStart);
        if (!fetched.bundle || !fetched.tile) {
          this.anomaly('missing-data', `the log does not serve ${fetched.bundle ? 'hash tile' : 'entry bundle'} ${t} (width ${width}) of its signed tree of size ${size}`);
          throw new StopRun();
        }
        let entries: Uint8Array[];
        try {
          entries = decodeEntryBundle(fetched.bundle, width);
        } catch (error) {
          this.anomaly('missing-data', `entry bundle ${t} (width ${width}) is malformed: ${message(error)}`);
          throw new StopRun();
        }
        const from = Math.max(start, tileStart) - tileStart;
        if (from > 0) {
          const mirrored = store.entries(tileStart, tileStart + from);
          const changed = mirrored.findIndex((e, i) => !bytesEqual(e, entries[i]!));
          if (changed >= 0) {
            this.anomaly('tile-mismatch', `entry ${tileStart + changed} is served with other bytes than when it was mirrored`, null, tileStart + changed);
            throw new StopRun();
          }
        }
        const fresh = entries.slice(from);
        const hashes = fresh.map(leafHash);
        const changedTiles = builder.append(hashes);
        const level0 = changedTiles.find((c) => c.level === 0 && c.index === t) ?? { data: store.tile(0, t) ?? new Uint8Array(0) };
        if (fetched.tile.length !== width * HASH_BYTES || !bytesEqual(fetched.tile, level0.data.subarray(0, width * HASH_BYTES))) {
          let at = 0;
          while (at < width && bytesEqual(fetched.tile.subarray(at * HASH_BYTES, (at + 1) * HASH_BYTES), level0.data.subarray(at * HASH_BYTES, (at + 1) * HASH_BYTES))) at++;
          this.anomaly(
            'tile-mismatch',
            `hash tile 0/${t} does not hold the leaf hash of entry ${tileStart + at} as served in its entry bundle`,
            null,
            tileStart + at,
          );
          throw new StopRun();
        }
        let analyzed: AnalyzedEntry[];
        try {
          analyzed = await fetched.analysis!;
        } catch (error) {
          // A malformed bundle was reported above; anything else here is a failure of this program.
          throw new Error(`analyzing entry bundle ${t}: ${message(error)}`);
        }
        const result = checker.apply(analyzed, hashes.map(toHex));
        chunkAnomalies.push(...result.anomalies);
        jobs.push(...result.jobs);
        fresh.forEach((e, i) => store.addEntry(tileStart + from + i, e));
        for (const c of changedTiles) store.putTile(c.level, c.index, c.data);
        done += fresh.length;
        this.report.newEntries = done;
        if (++inChunk >= CHUNK_TILES || t === endTile - 1) {
          await commitChunk(tileStart + width);
          this.options.onProgress?.(done, total);
          if (t < endTile - 1) store.begin();
        }
      }
      if (firstTile === endTile) {
        // Nothing to fetch (an empty log, or no new entries): keep the transaction shape uniform.
        store.commit();
      }
    } catch (error) {
      store.rollback();
      throw error;
    } finally {
      void pool.close();
    }

    // The root recomputed from every entry must be the signed root.
    const root = builder.root();
    if (!bytesEqual(root, checkpoint.root)) {
      const reason = `the ${size} entries served do not reproduce the root of checkpoint ${size} (recomputed ${short(root)}, signed ${short(checkpoint.root)})`;
      this.anomaly('root-mismatch', reason, note);
      store.setMeta('halted', reason);
      throw new StopRun();
    }
    await this.checkUpperTiles(start, size);
    store.transaction(() => {
      store.addCheckpoint({ size, root: checkpoint.root, note, seenAt: this.now() });
      store.setMeta('verifiedSize', String(size));
    });
  }

  /** Hash tiles above level 0 that changed in this run, as served for `size`, against the ones recomputed. */
  private async checkUpperTiles(start: number, size: number): Promise<void> {
    for (let level = 1; Math.floor(size / TILE_WIDTH ** level) > 0; level++) {
      const hashes = Math.floor(size / TILE_WIDTH ** level);
      const from = Math.floor(Math.floor(start / TILE_WIDTH ** level) / TILE_WIDTH);
      const to = Math.ceil(hashes / TILE_WIDTH);
      for (let t = from; t < to; t++) {
        const width = Math.min(TILE_WIDTH, hashes - t * TILE_WIDTH);
        const served = await this.client.get(`/log/${tilePath({ level, index: t, width })}`);
        const mine = this.store.tile(level, t);
        if (!served || !mine || served.length !== width * HASH_BYTES || !bytesEqual(served, mine.subarray(0, width * HASH_BYTES))) {
          this.anomaly(
            'tile-mismatch',
            served ? `hash tile ${tileKey(level, t)} (width ${width}) does not hold the hashes of the entries` : `the log does not serve hash tile ${tileKey(level, t)} (width ${width})`,
          );
        }
      }
    }
  }
}
