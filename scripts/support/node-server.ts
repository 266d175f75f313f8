// A Node HTTP server run as a child process by a benchmark or a reliability program: `node [flags] --import tsx
// SCRIPT…`. Its port comes from the "listening on http://HOST:PORT" line it prints on stdout (src/node.ts prints one,
// and so does the hello-world of scripts/bench/limits.ts); the end of its stderr is kept for error reports.
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';

const LISTENING = /listening on http:\/\/[^\s]*:(\d+)/;
/** How much of stdout (until the listening line) and of stderr is kept. */
const KEPT_CHARS = 20_000;

export interface NodeServerOptions {
  cwd: string;
  /** Added to this process's environment. */
  env: Record<string, string>;
  /** Flags for node itself, before `--import tsx` (e.g. --cpu-prof). */
  nodeFlags?: string[];
}

export class NodeServerChild {
  readonly child: ChildProcess;
  readonly spawnedAt = performance.now();
  /** The port, once the server printed that it listens; rejects if it exits first. */
  readonly listening: Promise<number>;
  /** Resolves with the exit code (null when a signal ended it). */
  readonly exited: Promise<number | null>;
  hasExited = false;
  private stderr = '';

  constructor(script: string[], options: NodeServerOptions) {
    this.child = spawn(process.execPath, [...(options.nodeFlags ?? []), '--import', import.meta.resolve('tsx'), ...script], {
      cwd: options.cwd,
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-KEPT_CHARS);
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code) => {
        this.hasExited = true;
        resolve(code);
      });
    });
    this.listening = new Promise<number>((resolve, reject) => {
      let stdout = '';
      this.child.stdout?.setEncoding('utf8');
      this.child.stdout?.on('data', (chunk: string) => {
        stdout = (stdout + chunk).slice(-KEPT_CHARS);
        const match = LISTENING.exec(stdout);
        if (match) resolve(Number(match[1]));
      });
      void this.exited.then((code) => reject(new Error(`the server exited (code ${code}) before listening: ${this.stderrTail()}`)));
    });
    this.listening.catch(() => undefined); // awaited by the caller when it wants the port; an early exit is reported there
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** Everything kept of stderr (the server logs unexpected errors there). */
  stderrText(): string {
    return this.stderr;
  }

  /** The last lines of stderr, on one line. */
  stderrTail(lines = 5): string {
    return this.stderr.trim().split('\n').slice(-lines).join(' | ');
  }
}
