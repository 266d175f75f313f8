// Serialises work per key (a certificate, an issuer's idempotency key) inside the one sequencing process, so that a
// read-validate-append sequence cannot interleave with another on the same key. Different keys run concurrently and
// their appends still share sequencer batches.
export class KeyedMutex {
  private readonly tails = new Map<string, Promise<unknown>>();

  async run<T>(keys: readonly string[], task: () => Promise<T>): Promise<T> {
    // Locks are taken in sorted order so two tasks with overlapping keys cannot deadlock.
    const sorted = [...new Set(keys)].sort();
    const previous = sorted.map((k) => this.tails.get(k) ?? Promise.resolve());
    const done = Promise.all(previous).then(task);
    const tail = done.catch(() => undefined);
    for (const k of sorted) this.tails.set(k, tail);
    try {
      return await done;
    } finally {
      for (const k of sorted) if (this.tails.get(k) === tail) this.tails.delete(k);
    }
  }
}
