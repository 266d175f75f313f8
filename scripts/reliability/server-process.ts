// The registry server as a child process of a reliability program: `node --import tsx src/node.ts`, configured by
// the environment variables `npm start` reads (README, Configuration), on 127.0.0.1 with an ephemeral port, its
// database and keys in a folder of the program's. SIGKILLed when the program exits (scripts/crash/loop.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { deferred, trackChild } from '../crash/loop.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE_ENTRY = join(ROOT, 'src', 'node.ts');

export class ServerProcess {
  /** Resolves with the port once the server printed that it listens; rejects if it exits first. */
  readonly listening = deferred<number>();
  readonly exited: Promise<void>;
  readonly spawnedAt = performance.now();
  killedByUs = false;
  hasExited = false;
  private readonly child: ChildProcess;
  private stderr = '';

  /** `baseUrl` is CERTRAIL_ORIGIN: fixed, so the log origin and the JWT audience survive restarts on new ports. */
  constructor(dir: string, baseUrl: string, env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, ['--import', 'tsx', NODE_ENTRY], {
      cwd: ROOT,
      env: {
        ...process.env,
        HOST: '127.0.0.1',
        PORT: '0',
        CERTRAIL_DB: join(dir, 'certrail.db'),
        CERTRAIL_KEYS: join(dir, 'keys'),
        CERTRAIL_ORIGIN: baseUrl,
        CERTRAIL_DEMO: '0',
        CERTRAIL_BUILD_PAGE: '0',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    trackChild(this.child);
    this.exited = new Promise((resolveExit) => {
      this.child.once('exit', (code, signal) => {
        this.hasExited = true;
        this.listening.reject(new Error(`server exited (code ${code}, signal ${signal}) before listening: ${this.stderrTail()}`));
        resolveExit();
      });
    });
    this.child.stderr?.setEncoding('utf8');
    this.child.stderr?.on('data', (chunk: string) => {
      this.stderr = (this.stderr + chunk).slice(-4000);
    });
    let stdout = '';
    this.child.stdout?.setEncoding('utf8');
    this.child.stdout?.on('data', (chunk: string) => {
      stdout = (stdout + chunk).slice(-4000);
      const match = /listening on http:\/\/[^\s]*:(\d+)/.exec(stdout);
      if (match) this.listening.resolve(Number(match[1]));
    });
  }

  get pid(): number {
    return this.child.pid ?? 0;
  }

  /** The last lines the server wrote to stderr (it logs unexpected errors there). */
  stderrTail(lines = 5): string {
    return this.stderr.trim().split('\n').slice(-lines).join(' | ');
  }

  kill(): void {
    if (this.hasExited) return;
    this.killedByUs = true;
    this.child.kill('SIGKILL');
  }

  /** Asks the server to close (SIGTERM: it stops listening, flushes the sequencer and closes the database). */
  async stop(): Promise<void> {
    if (!this.hasExited) this.child.kill('SIGTERM');
    await this.exited;
  }
}
