// Test support: real `certrail` child processes (the same entry as `npx certrail`, bin/certrail.js) on loopback.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const BIN = join(ROOT, 'bin', 'certrail.js');

export interface CertrailProcess {
  process: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null when killed by a signal). */
  exited: Promise<number | null>;
  /** Waits for a line of output matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export function spawnCertrail(args: string[], env: NodeJS.ProcessEnv = {}): CertrailProcess {
  const child = spawn(process.execPath, [BIN, ...args], {
    cwd: ROOT,
    env: { ...process.env, CERTRAIL_DEMO: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer) => {
    output += chunk.toString('utf8');
    for (const l of listeners) l();
  };
  child.stdout!.on('data', onData);
  child.stderr!.on('data', onData);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    process: child,
    output: () => output,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const m = pattern.exec(output);
          if (m) {
            cleanup();
            resolve(m);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms; output:\n${output}`));
        }, timeoutMs);
        const onExit = () => {
          cleanup();
          reject(new Error(`process exited before printing ${pattern}; output:\n${output}`));
        };
        const cleanup = () => {
          clearTimeout(timer);
          listeners.delete(check);
          child.off('exit', onExit);
        };
        listeners.add(check);
        child.once('exit', onExit);
        check();
      });
    },
    async kill(signal = 'SIGTERM') {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill(signal);
      await exited;
    },
  };
}

/** Runs a certrail command to completion. */
export async function runCertrail(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number | null; output: string }> {
  const child = spawnCertrail(args, env);
  const code = await child.exited;
  return { code, output: child.output() };
}

export interface WitnessProcess extends CertrailProcess {
  url: string;
  vkey: string;
  port: number;
}

/** Starts `certrail witness` for the given log verifier keys, its key and state in `dir`. */
export async function startWitnessProcess(options: { dir: string; name: string; logs: string[]; port?: number }): Promise<WitnessProcess> {
  const child = spawnCertrail([
    'witness',
    ...options.logs.flatMap((vkey) => ['--log', vkey]),
    '--db', join(options.dir, 'witness.db'),
    '--key', join(options.dir, 'witness.key'),
    '--name', options.name,
    '--port', String(options.port ?? 0),
  ]);
  const [, url] = await child.waitFor(/listening on (http:\/\/\S+)/);
  const [, vkey] = await child.waitFor(/^witness (\S+)$/m);
  return { ...child, url: url!, vkey: vkey!, port: Number(new URL(url!).port) };
}
