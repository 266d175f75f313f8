// The monitor's pool of worker threads for its stateless per-entry work (src/monitor/analyze.ts): decoding, schema
// checks and signature verification of entry bundles, so that a catch-up uses every core. With no workers (or when
// workers cannot start) the same work runs in this thread.
import { availableParallelism } from 'node:os';
import { WorkerPool } from '../worker-pool.js';
import { analyzeBundle, type AnalyzeRequest, type AnalyzedEntry } from './analyze.js';

/** The default number of workers: one per core, at most 4. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(availableParallelism(), 4));
}

/** A pool of `workers` threads analyzing entry bundles (none: analyze in this thread). */
export function analysisPool(workers: number): WorkerPool<AnalyzeRequest, AnalyzedEntry[]> {
  return new WorkerPool(import.meta.url, './entry-worker', workers, analyzeBundle);
}
