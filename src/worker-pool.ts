// A pool of worker threads for stateless work (the monitor's per-entry analysis: src/monitor/pool.ts). Each request
// goes to the worker with the fewest in flight; with no workers (or when workers cannot start) the same function runs
// in this thread. A worker that dies (an uncaught error, an exit) leaves the pool, and what it had in flight runs
// again in this thread: the work is stateless, so running it twice is harmless, and the caller goes on, one thread
// short. Node only.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parentPort, Worker } from 'node:worker_threads';

interface Slot {
  worker: Worker;
  inFlight: number;
}

interface Pending<Req, Res> {
  slot: Slot;
  request: Req;
  resolve(result: Res): void;
  reject(error: unknown): void;
}

type WorkerAnswer<Res> = { id: number; result: Res } | { id: number; error: string };

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

export class WorkerPool<Req, Res> {
  private readonly slots: Slot[] = [];
  private readonly pending = new Map<number, Pending<Req, Res>>();
  private nextId = 0;
  private closed = false;

  /**
   * `entry`: the worker module's path relative to `base` (the caller's import.meta.url), without its extension:
   * under tsx (TypeScript sources) it is the .ts file, loaded through tsx, otherwise the built .js. `inThread` is
   * the function the workers run (serveWorker), for when there are none.
   */
  constructor(
    base: string,
    entry: string,
    workers: number,
    private readonly inThread: (request: Req) => Promise<Res>,
  ) {
    if (workers <= 0) return;
    const typescript = base.endsWith('.ts');
    const url = new URL(`${entry}.${typescript ? 'ts' : 'js'}`, base);
    try {
      for (let i = 0; i < workers; i++) {
        const worker = new Worker(typescript ? tsxBootstrap(url) : url);
        const slot = { worker, inFlight: 0 };
        worker.on('message', (answer: WorkerAnswer<Res>) => this.settle(answer));
        worker.on('error', () => this.retire(slot));
        worker.on('exit', () => this.retire(slot));
        this.slots.push(slot);
      }
    } catch {
      // No workers here: run in this thread.
      for (const s of this.slots.splice(0)) void s.worker.terminate();
    }
  }

  get size(): number {
    return this.slots.length;
  }

  run(request: Req): Promise<Res> {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    const slot = this.slots.reduce<Slot | null>((best, s) => (best === null || s.inFlight < best.inFlight ? s : best), null);
    if (!slot) return this.inThread(request);
    const id = this.nextId++;
    slot.inFlight++;
    return new Promise<Res>((resolve, reject) => {
      this.pending.set(id, { slot, request, resolve, reject });
      slot.worker.postMessage({ id, request });
    });
  }

  private settle(answer: WorkerAnswer<Res>): void {
    const p = this.pending.get(answer.id);
    if (!p) return;
    this.pending.delete(answer.id);
    p.slot.inFlight--;
    if ('error' in answer) p.reject(new Error(`worker: ${answer.error}`));
    else p.resolve(answer.result);
  }

  /** Takes a dead worker out of the pool and runs what it had in flight here. */
  private retire(slot: Slot): void {
    const index = this.slots.indexOf(slot);
    if (index < 0) return;
    this.slots.splice(index, 1);
    void slot.worker.terminate();
    for (const [id, p] of this.pending) {
      if (p.slot !== slot) continue;
      this.pending.delete(id);
      this.inThread(p.request).then(p.resolve, p.reject);
    }
  }

  /** Stops the workers; what they still had in flight is rejected (it would never be answered). */
  async close(): Promise<void> {
    this.closed = true;
    const slots = this.slots.splice(0);
    for (const p of this.pending.values()) p.reject(new Error('the worker pool is closed'));
    this.pending.clear();
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

/** The worker side: answers each request of the pool with `handle`'s result, or its error's message. */
export function serveWorker<Req, Res>(handle: (request: Req) => Promise<Res>): void {
  const port = parentPort;
  if (!port) return;
  port.on('message', (message: { id: number; request: Req }) => {
    handle(message.request).then(
      (result) => port.postMessage({ id: message.id, result }),
      (error: unknown) => port.postMessage({ id: message.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
}
