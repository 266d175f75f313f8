// Test support for the CLI tests: runs the real command (node bin/certrail.js) as a child process.
import { execFile, spawn, type ChildProcess } from 'node:child_process';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `certrail …args` to completion; env is added to the test's environment. */
export function certrail(args: string[], env: NodeJS.ProcessEnv = {}, timeout = 30_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/certrail.js', ...args],
      { env: { ...process.env, ...env }, timeout, maxBuffer: 32 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Starts `certrail …args` without waiting, for tests that interrupt it. */
export function startCertrail(args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  return spawn(process.execPath, ['bin/certrail.js', ...args], { env: { ...process.env, ...env }, stdio: 'ignore' });
}
