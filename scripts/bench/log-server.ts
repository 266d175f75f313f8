// Child process of scripts/bench/log.ts (not run by hand): starts the registry on an existing database exactly as
// `npm start` does (startNodeServer), and reports over the IPC channel how long start-up took and how much memory the
// process holds. Kept lean so that its import graph is the server's own: only src/node.ts and the sequencer it opens.
//
// argv[2] is a JSON ServerArgs. Messages: the child sends `ready` once listening, answers `memory` requests, and exits
// after `stop` (closing the server as SIGTERM would).
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { Sequencer, type SequencerOptions } from '../../src/log/sequencer.js';
import { startNodeServer } from '../../src/node.js';

/** Milliseconds since this process started (performance.timeOrigin), taken once every import has been evaluated. */
const importsDoneMs = performance.now();

export interface ServerArgs {
  dbPath: string;
  keyDir: string;
  baseUrl: string;
  logOrigin: string;
}

export interface MemoryReport {
  /** process.memoryUsage().rss, bytes. */
  rss: number;
  heapUsed: number;
  /** Buffers and other memory held outside the V8 heap (better-sqlite3 rows, sockets), bytes. */
  external: number;
  /** Peak resident set of the process so far (getrusage maxrss), bytes. */
  maxRss: number;
  /** VmHWM from /proc/self/status when available (peak RSS as the kernel counts it), bytes. */
  vmHwm: number | null;
}

export type ServerMessage =
  | {
      type: 'ready';
      port: number;
      size: number;
      refused: string | null;
      /** From process start to the end of module loading (Node boot, tsx, the import graph). */
      importsDoneMs: number;
      /** From process start to the server listening. */
      listeningMs: number;
      /** startNodeServer() alone: open SQLite + migrations, key file, Sequencer.open, app, listen. */
      startServerMs: number;
      /** Sequencer.open alone: latest checkpoint, right-edge tiles, root recomputation (the integrity check). */
      sequencerOpenMs: number;
      /** CPU seconds (user + system) this process used up to now. */
      cpuSeconds: number;
      memory: MemoryReport;
    }
  | { type: 'memory'; memory: MemoryReport }
  | { type: 'error'; message: string };

export type ParentMessage = { type: 'memory' } | { type: 'stop' };

function memoryReport(): MemoryReport {
  const usage = process.memoryUsage();
  let vmHwm: number | null = null;
  try {
    const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync('/proc/self/status', 'utf8'));
    if (match?.[1]) vmHwm = Number(match[1]) * 1024;
  } catch {
    vmHwm = null;
  }
  return { rss: usage.rss, heapUsed: usage.heapUsed, external: usage.external, maxRss: process.resourceUsage().maxRSS * 1024, vmHwm };
}

function send(message: ServerMessage): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  const args = JSON.parse(process.argv[2] ?? '') as ServerArgs;

  // Time Sequencer.open inside the real start-up path by wrapping it (same module instance as src/node.ts uses).
  let sequencerOpenMs = Number.NaN;
  const open = Sequencer.open.bind(Sequencer);
  Sequencer.open = async (options: SequencerOptions): Promise<Sequencer> => {
    const t0 = performance.now();
    const sequencer = await open(options);
    sequencerOpenMs = performance.now() - t0;
    return sequencer;
  };

  const t0 = performance.now();
  const server = await startNodeServer({ ...args, host: '127.0.0.1', port: 0 });
  const listeningMs = performance.now();

  process.on('message', (message: ParentMessage) => {
    if (message.type === 'memory') send({ type: 'memory', memory: memoryReport() });
    else if (message.type === 'stop') void server.close().then(() => process.exit(0));
  });
  send({
    type: 'ready',
    port: server.port,
    size: server.sequencer.checkpoint.size,
    refused: server.sequencer.refused,
    importsDoneMs,
    listeningMs,
    startServerMs: listeningMs - t0,
    sequencerOpenMs,
    cpuSeconds: (process.cpuUsage().user + process.cpuUsage().system) / 1e6,
    memory: memoryReport(),
  });
}

main().catch((error: unknown) => {
  send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
  process.exit(1);
});
