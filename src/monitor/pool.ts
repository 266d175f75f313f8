// A pool of worker threads for the monitor's stateless per-entry work (src/monitor/analyze.ts): decoding, schema
// checks and signature verification of entry bundles, so that a catch-up uses every core. With no workers (or when
// workers cannot start) the same work runs in this thread.
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { analyzeBundle, type AnalyzeRequest, type AnalyzedEntry } from './analyze.js';

interface Pending {
  resolve(result: AnalyzedEntry[]): void;
  reject(error: Error): void;
}

interface Slot {
  worker: Worker;
  inFlight: number;
}

type WorkerAnswer = { id: number; result: AnalyzedEntry[] } | { id: number; error: string };

/**
 * A worker entry that registers tsx (resolved from this package, not from the working directory) and then imports the
 * TypeScript worker module, as bin/certrail.js does for the main thread (`--import` in a worker's execArgv does not
 * install the hooks on Node 20).
 */
function tsxBootstrap(target: URL): URL {
  // The ESM build of tsx's API (`tsx/esm/api` under the import condition; require.resolve would give the CJS one).
  const root = dirname(createRequire(import.meta.url).resolve('tsx/package.json'));
  const api = pathToFileURL(join(root, 'dist', 'esm', 'api', 'index.mjs')).href;
  const code = `import { register } from ${JSON.stringify(api)}; register(); await import(${JSON.stringify(target.href)});`;
  return new URL(`data:text/javascript,${encodeURIComponent(code)}`);
}

/** The default number of workers: one per core, at most 4. */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(availableParallelism(), 4));
}

export class AnalysisPool {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending>();
  private nextId = 0;
  private failed: Error | null = null;
  private closed = false;

  constructor(workers: number) {
    if (workers <= 0) return;
    // Under tsx (running the TypeScript sources) the worker needs the same loader; built JavaScript needs none.
    const typescript = import.meta.url.endsWith('.ts');
    const url = new URL(`./entry-worker.${typescript ? 'ts' : 'js'}`, import.meta.url);
    try {
      for (let i = 0; i < workers; i++) {
        const worker = new Worker(typescript ? tsxBootstrap(url) : url);
        worker.on('message', (answer: WorkerAnswer) => this.settle(answer));
        worker.on('error', (error) => this.fail(error));
        this.slots.push({ worker, inFlight: 0 });
      }
    } catch {
      // No workers here: analyze in this thread.
      for (const s of this.slots.splice(0)) void s.worker.terminate();
    }
  }

  get size(): number {
    return this.slots.length;
  }

  analyze(request: AnalyzeRequest): Promise<AnalyzedEntry[]> {
    if (this.failed) return Promise.reject(this.failed);
    if (this.closed) return Promise.reject(new Error('the analysis pool is closed'));
    const slot = this.slots.reduce<Slot | null>((best, s) => (best === null || s.inFlight < best.inFlight ? s : best), null);
    if (!slot) return analyzeBundle(request);
    const id = this.nextId++;
    slot.inFlight++;
    return new Promise<AnalyzedEntry[]>((resolve, reject) => {
      this.pending.set(id, {
        resolve: (r) => {
          slot.inFlight--;
          resolve(r);
        },
        reject: (e) => {
          slot.inFlight--;
          reject(e);
        },
      });
      slot.worker.postMessage({ id, request });
    });
  }

  private settle(answer: WorkerAnswer): void {
    const p = this.pending.get(answer.id);
    if (!p) return;
    this.pending.delete(answer.id);
    if ('error' in answer) p.reject(new Error(`analysis worker: ${answer.error}`));
    else p.resolve(answer.result);
  }

  private fail(error: Error): void {
    this.failed = error;
    for (const p of this.pending.values()) p.reject(error);
    this.pending.clear();
  }

  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}
