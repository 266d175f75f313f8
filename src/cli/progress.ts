// A one-line progress bar for long CLI runs (hashing a model, importing certificates). It draws on a TTY only, at most
// ten times a second, and erases itself when done, so piped or captured output (and --json) never contains it.

export interface Progress {
  /** Adds `n` to the amount done. */
  add(n: number): void;
  /** Erases the bar; further calls do nothing. */
  finish(): void;
}

export interface ProgressOptions {
  /** What `total` counts: bytes are shown as MB with a rate, items as "n/total". */
  unit: 'bytes' | 'items';
  stream: NodeJS.WriteStream;
  /** Redraw interval in ms (default 100). */
  intervalMs?: number;
}

const SILENT: Progress = { add() {}, finish() {} };

function formatAmount(n: number, unit: ProgressOptions['unit']): string {
  return unit === 'bytes' ? `${(n / 1e6).toFixed(1)} MB` : String(n);
}

/** A progress bar for `total` units of work labelled `label`; silent unless `stream` is a TTY. */
export function createProgress(label: string, total: number, options: ProgressOptions): Progress {
  const { stream, unit } = options;
  if (!stream.isTTY || total <= 0) return SILENT;
  const interval = options.intervalMs ?? 100;
  const started = Date.now();
  let done = 0;
  let lastDraw = 0;
  let finished = false;

  const draw = () => {
    const fraction = Math.min(1, done / total);
    const seconds = (Date.now() - started) / 1000;
    const rate = unit === 'bytes' && seconds > 0.5 ? `  ${(done / 1e6 / seconds).toFixed(0)} MB/s` : '';
    const amounts = `${formatAmount(done, unit)}/${formatAmount(total, unit)}`;
    const tail = ` ${(fraction * 100).toFixed(0).padStart(3)}%  ${amounts}${rate}`;
    const width = Math.max(10, Math.min(40, (stream.columns ?? 80) - label.length - tail.length - 4));
    const filled = Math.round(fraction * width);
    stream.write(`\r\x1b[2K${label} [${'#'.repeat(filled)}${'-'.repeat(width - filled)}]${tail}`);
  };

  return {
    add(n: number) {
      if (finished) return;
      done += n;
      const now = Date.now();
      if (now - lastDraw >= interval) {
        lastDraw = now;
        draw();
      }
    },
    finish() {
      if (finished) return;
      finished = true;
      if (lastDraw !== 0) stream.write('\r\x1b[2K');
    },
  };
}
