// The size of libuv's thread pool, which runs the server's Ed25519 checks (src/native-crypto.ts). Its default of four
// threads oversubscribes a small machine: each signature queued wakes a thread that preempts the main thread, the
// server's bottleneck (client-signed issuance on 2 cores, scripts/bench/api.ts: about 1,870/s with four threads,
// 1,990–2,010/s with one or two). So: one thread per core the main thread leaves, at least one, unless
// UV_THREADPOOL_SIZE is set. src/node.ts imports this module first, because libuv reads the variable once, when the
// pool first starts.
import { availableParallelism } from 'node:os';

process.env.UV_THREADPOOL_SIZE ??= String(Math.max(1, availableParallelism() - 1));
