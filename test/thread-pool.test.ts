// src/thread-pool.ts sizes libuv's thread pool to the cores the main thread leaves (at least one) unless
// UV_THREADPOOL_SIZE is set, and src/node.ts imports it before anything else.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');

function poolSize(env: Record<string, string | undefined>): string {
  const script = "await import('./src/thread-pool.ts'); process.stdout.write(process.env.UV_THREADPOOL_SIZE ?? 'unset');";
  const { UV_THREADPOOL_SIZE: _, ...inherited } = process.env;
  return execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { cwd: ROOT, env: { ...inherited, ...env } }).toString();
}

describe('thread pool size', () => {
  it('is one per core the main thread leaves, at least one', () => {
    expect(poolSize({})).toBe(String(Math.max(1, availableParallelism() - 1)));
  });

  it('leaves a size set by the operator alone', () => {
    expect(poolSize({ UV_THREADPOOL_SIZE: '7' })).toBe('7');
  });

  it('is set by the first import of the Node entry', () => {
    const firstImport = readFileSync(join(ROOT, 'src', 'node.ts'), 'utf8').match(/^import .*$/m)?.[0];
    expect(firstImport).toMatch(/^import '\.\/thread-pool\.js';/);
  });
});
