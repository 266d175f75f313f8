// A C2SP tlog-witness (c2sp.org/tlog-witness §add-checkpoint) over the durable state of state.ts: it checks the log's
// signature with the keys it was configured with, the old size and the consistency proof, persists the new checkpoint
// and only then answers with a cosignature/v1 line (c2sp.org/tlog-cosignature) from its own Ed25519 key.
//
// Trust: a log is known by its origin and verifier key(s), configured by the operator; requests are not otherwise
// authenticated. Cosignatures are only ever made over checkpoints the state accepted, after its commit returned.
import { concatBytes, toBase64, utf8 } from '../core/bytes.js';
import { parseCheckpoint, type Checkpoint } from '../core/checkpoint.js';
import { RegistryError } from '../core/errors.js';
import { cosignatureSigner, openNote, parseNote, parseVerifierKey, SIG_TYPE_ED25519, type NoteSigner, type NoteVerifier } from '../core/note.js';
import {
  formatTreeSizeBody,
  parseAddCheckpointRequest,
  TLOG_SIZE_MEDIA_TYPE,
  type AddCheckpointRequest,
} from '../core/tlog-witness.js';
import type { WitnessState } from './state.js';

export interface WitnessOptions {
  /** The witness's key: its name and Ed25519 seed, used as a cosignature/v1 (type 0x04) key. */
  key: { name: string; seed: Uint8Array };
  /** Verifier keys of the logs this witness cosigns; a log's origin is its key's name. */
  logs: readonly string[];
  state: WitnessState;
  /** Milliseconds; cosignature timestamps are its whole seconds. */
  now?: () => number;
}

export type WitnessStatus = 200 | 400 | 403 | 404 | 409 | 422;

export interface WitnessResponse {
  status: WitnessStatus;
  contentType: string;
  body: string;
}

const TEXT = 'text/plain; charset=utf-8';

function answer(status: WitnessStatus, body: string, contentType = TEXT): WitnessResponse {
  return { status, contentType, body: body.endsWith('\n') ? body : `${body}\n` };
}

/** Groups log verifier keys by origin (= key name); only Ed25519 note keys can sign checkpoints. */
export function parseLogKeys(vkeys: readonly string[]): Map<string, NoteVerifier[]> {
  const logs = new Map<string, NoteVerifier[]>();
  for (const vkey of vkeys) {
    const verifier = parseVerifierKey(vkey);
    if (verifier.type !== SIG_TYPE_ED25519) throw new Error(`${vkey}: a log key must be an Ed25519 (0x01) verifier key`);
    logs.set(verifier.name, [...(logs.get(verifier.name) ?? []), verifier]);
  }
  return logs;
}

export class Witness {
  private readonly signer: NoteSigner & { vkey: string };
  private readonly logs: Map<string, NoteVerifier[]>;
  private readonly state: WitnessState;
  private readonly now: () => number;

  private constructor(options: WitnessOptions, signer: NoteSigner & { vkey: string }) {
    this.signer = signer;
    this.logs = parseLogKeys(options.logs);
    if (this.logs.size === 0) throw new Error('a witness needs at least one log (origin and verifier key)');
    this.state = options.state;
    this.now = options.now ?? Date.now;
  }

  static async create(options: WitnessOptions): Promise<Witness> {
    const now = options.now ?? Date.now;
    // Cosignature timestamps (POSIX seconds) never go backwards within a process, even if the clock does.
    let last = 0;
    const timestamp = () => (last = Math.max(last, Math.floor(now() / 1000)));
    return new Witness(options, await cosignatureSigner(options.key.name, options.key.seed, timestamp));
  }

  get vkey(): string {
    return this.signer.vkey;
  }

  get origins(): string[] {
    return [...this.logs.keys()];
  }

  /** The latest cosigned size per known origin (0 when none yet). */
  sizes(): Array<{ origin: string; size: number }> {
    return this.origins.map((origin) => ({ origin, size: this.state.latest(origin)?.size ?? 0 }));
  }

  /** tlog-witness §add-checkpoint, in the order of its checks. Never throws for bad input. */
  async addCheckpoint(body: string): Promise<WitnessResponse> {
    let request: AddCheckpointRequest;
    let checkpoint: Checkpoint;
    try {
      request = parseAddCheckpointRequest(body);
      checkpoint = parseCheckpoint(parseNote(request.checkpoint).text);
    } catch (error) {
      return answer(400, message(error));
    }
    const verifiers = this.logs.get(checkpoint.origin);
    if (!verifiers) return answer(404, `unknown log origin ${checkpoint.origin}`);
    let text: string;
    try {
      // Signatures from unknown keys are ignored; a failing signature from a known key, or none, is 403.
      text = (await openNote(request.checkpoint, verifiers)).text;
    } catch (error) {
      if (error instanceof RegistryError && error.code === 'forbidden') return answer(403, message(error));
      return answer(400, message(error));
    }
    if (request.oldSize > checkpoint.size) {
      return answer(400, `old size ${request.oldSize} is larger than the checkpoint size ${checkpoint.size}`);
    }

    const now = this.now();
    const outcome = this.state.update(
      { origin: checkpoint.origin, oldSize: request.oldSize, size: checkpoint.size, root: checkpoint.root, proof: request.proof, note: request.checkpoint },
      now,
    );
    switch (outcome.kind) {
      case 'stale':
      case 'smaller':
        return answer(409, formatTreeSizeBody(outcome.size), TLOG_SIZE_MEDIA_TYPE);
      case 'root-mismatch':
        this.state.recordEvidence(checkpoint.origin, `size ${checkpoint.size} with a root other than the one cosigned`, body, now);
        return answer(409, `checkpoint ${checkpoint.size} has a different root than the one this witness cosigned at that size`);
      case 'inconsistent':
        this.state.recordEvidence(checkpoint.origin, `consistency proof ${request.oldSize} -> ${checkpoint.size} does not verify`, body, now);
        return answer(422, `the consistency proof from ${request.oldSize} to ${checkpoint.size} does not verify`);
      case 'cosign':
        return answer(200, await this.cosign(text));
    }
  }

  /** One cosignature/v1 signature line over the checkpoint body (tlog-cosignature §Ed25519 signed message). */
  private async cosign(text: string): Promise<string> {
    const signature = await this.signer.sign(utf8(text));
    return `\u2014 ${this.signer.name} ${toBase64(concatBytes(this.signer.keyId, signature))}\n`;
  }
}

function message(error: unknown): string {
  return error instanceof RegistryError ? error.detail : error instanceof Error ? error.message : String(error);
}
