// Benchmark helper: how busy the rest of the machine is. On a shared 2-core machine another process's work shows up
// as a slower benchmark, so the log benchmark waits for the machine to go quiet before each measurement and reports
// how much CPU other processes used while it measured. Linux only (/proc/stat); elsewhere everything reads as idle.
import { readFileSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';

/** Clock ticks per second of /proc/stat (USER_HZ), 100 on every mainstream Linux build. */
const USER_HZ = 100;

interface Sample {
  /** Busy CPU seconds of the whole machine so far (all cores, everything but idle and iowait). */
  busy: number;
  /** CPU seconds of this process and of its children (`extra`, from the caller) so far. */
  own: number;
  at: number;
}

function machineBusySeconds(): number {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const fields = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice; guest time is already counted in user.
    const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
    return (user + nice + system + irq + softirq + steal) / USER_HZ;
  } catch {
    return 0;
  }
}

function sample(extraOwnSeconds = 0): Sample {
  const usage = process.cpuUsage();
  return { busy: machineBusySeconds(), own: (usage.user + usage.system) / 1e6 + extraOwnSeconds, at: performance.now() };
}

/** Starts measuring; `stop()` gives the average number of cores other processes kept busy meanwhile. */
export function watchOtherLoad(): { stop(childSeconds?: number): number } {
  const start = sample();
  return {
    stop(childSeconds = 0) {
      const end = sample(childSeconds);
      const seconds = (end.at - start.at) / 1000;
      if (seconds <= 0) return 0;
      return Math.max(0, (end.busy - start.busy - (end.own - start.own)) / seconds);
    },
  };
}

/**
 * Waits until other processes keep less than `threshold` cores busy over a `windowMs` window (this process being
 * idle meanwhile), or until `timeoutMs`. Returns the load seen last, so a caller can say it gave up waiting.
 */
export async function waitForQuiet(options: { threshold?: number; windowMs?: number; timeoutMs?: number; onWait?: (load: number) => void } = {}): Promise<number> {
  const threshold = options.threshold ?? 0.1;
  const windowMs = options.windowMs ?? 2000;
  const deadline = performance.now() + (options.timeoutMs ?? 300_000);
  let announced = false;
  for (;;) {
    const watch = watchOtherLoad();
    await sleep(windowMs);
    const load = watch.stop();
    if (load < threshold || performance.now() >= deadline) return load;
    if (!announced) options.onWait?.(load);
    announced = true;
  }
}
