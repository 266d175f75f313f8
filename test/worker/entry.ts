// The Worker the tests run: src/worker.ts unchanged, plus one test-only route, POST /__test/append, that appends raw
// entries through the sequencer (what the Node tests do in-process with `server.sequencer.append`). Never deployed:
// wrangler.toml's `main` is src/worker.ts; the tests pass this file to `wrangler dev` instead.
import { fromBase64 } from '../../src/core/bytes.js';
import { LogSequencer as ProductionSequencer, handleRequest, sequencerStub, type Env } from '../../src/worker.js';
import type { ExecutionContext } from '@cloudflare/workers-types/index.js';

const APPEND = '/__test/append';

export class LogSequencer extends ProductionSequencer {
  override async fetch(request: Request): Promise<Response> {
    if (new URL(request.url).pathname !== APPEND) return super.fetch(request);
    const { sequencer } = await this.started();
    const { entries } = (await request.json()) as { entries: string[] };
    const results = await Promise.all(entries.map((entry) => sequencer.append(fromBase64(entry))));
    return Response.json({ indices: results.map((r) => r.index) });
  }
}

export default {
  fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    if (new URL(request.url).pathname === APPEND && request.method === 'POST') return sequencerStub(env).fetch(request);
    return handleRequest(request, env, ctx);
  },
};
