// The registry server as a child process of a reliability program: `node --import tsx src/node.ts`, configured by
// the environment variables `npm start` reads (README, Configuration), on 127.0.0.1 with an ephemeral port, its
// database and keys in a folder of the program's. SIGKILLed when the program exits (scripts/crash/loop.ts).
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { trackChild } from '../crash/loop.js';
import { NodeServerChild } from '../support/node-server.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const NODE_ENTRY = join(ROOT, 'src', 'node.ts');

export class ServerProcess extends NodeServerChild {
  killedByUs = false;

  /** `baseUrl` is CERTRAIL_ORIGIN: fixed, so the log origin and the JWT audience survive restarts on new ports. */
  constructor(dir: string, baseUrl: string, env: Record<string, string> = {}) {
    super([NODE_ENTRY], {
      cwd: ROOT,
      env: {
        HOST: '127.0.0.1',
        PORT: '0',
        CERTRAIL_DB: join(dir, 'certrail.db'),
        CERTRAIL_KEYS: join(dir, 'keys'),
        CERTRAIL_ORIGIN: baseUrl,
        CERTRAIL_DEMO: '0',
        CERTRAIL_BUILD_PAGE: '0',
        ...env,
      },
    });
    trackChild(this.child);
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
