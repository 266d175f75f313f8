// Test support: a log held in memory (leaf hashes, a signer key) that signs C2SP checkpoints and proves consistency,
// for driving a witness directly (forks: two MemoryLogs with the same key and origin that diverge).
import { formatCheckpoint } from '../../src/core/checkpoint.js';
import { randomBytes } from '../../src/core/crypto.js';
import { utf8 } from '../../src/core/bytes.js';
import { assembleProof, consistencyProofPlan, leafHash, perfectRoot, rootFromLeafHashes } from '../../src/core/merkle.js';
import { ed25519NoteSigner, signNote, type NoteSigner } from '../../src/core/note.js';

export class MemoryLog {
  readonly leaves: Uint8Array[] = [];

  private constructor(
    readonly origin: string,
    readonly signer: NoteSigner & { vkey: string; publicKey: Uint8Array },
    readonly seed: Uint8Array,
  ) {}

  static async create(origin = 'memory.test/log', seed = randomBytes(32)): Promise<MemoryLog> {
    return new MemoryLog(origin, await ed25519NoteSigner(origin, seed), seed);
  }

  get size(): number {
    return this.leaves.length;
  }

  get vkey(): string {
    return this.signer.vkey;
  }

  /** Appends `n` entries whose bytes name `tag` and their index. */
  append(n: number, tag = 'main'): this {
    for (let i = 0; i < n; i++) this.leaves.push(leafHash(utf8(`${tag} ${this.leaves.length}`)));
    return this;
  }

  /** Another log with the same key and origin and the same first `size` entries (default: all). */
  fork(size = this.size): MemoryLog {
    const copy = new MemoryLog(this.origin, this.signer, this.seed);
    copy.leaves.push(...this.leaves.slice(0, size));
    return copy;
  }

  root(size = this.size): Uint8Array {
    return rootFromLeafHashes(this.leaves.slice(0, size));
  }

  async checkpoint(size = this.size, signers: NoteSigner[] = [this.signer]): Promise<string> {
    return signNote(formatCheckpoint({ origin: this.origin, size, root: this.root(size), extensions: [] }), signers);
  }

  /** RFC 9162 consistency proof from `from` to `to` (empty for from 0 or from == to). */
  proof(from: number, to = this.size): Uint8Array[] {
    if (from === 0 || from === to) return [];
    return assembleProof(consistencyProofPlan(from, to), ({ level, index }) => perfectRoot(this.leaves, index * 2 ** level, 2 ** level));
  }
}
