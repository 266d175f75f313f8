// Worker thread of scripts/bench/api-bulk.ts: the certification body's side of the bulk build. Builds certificates,
// signs them with the CB's key and checks them against the registry's certificate schema (parseDocument, as
// Registry.issueCertificate does first), then hands them back as JSON text, so that the sequencing thread only
// sequences and commits.
import { parentPort, workerData } from 'node:worker_threads';
import { asJsonObject, certificateSchema, parseDocument } from '../../src/core/credential.js';
import { fromHex } from '../../src/core/bytes.js';
import { BENCH_ISSUER, BENCH_KEY_ID, benchCertificate, CertificateSigner, type CertificateDates } from './api-support.js';

export interface SignWorkerData {
  baseUrl: string;
  seedHex: string;
  dates: CertificateDates;
}

/** Certificates first … last (inclusive). */
export interface SignRequest {
  first: number;
  last: number;
}

export interface SignResponse {
  first: number;
  /** The signed, schema-checked certificates as JSON text, in number order. */
  documents: string[];
  seconds: number;
}

const data = workerData as SignWorkerData;
const signer = new CertificateSigner(fromHex(data.seedHex), `${data.baseUrl}/issuers/${BENCH_ISSUER}#${BENCH_KEY_ID}`, data.dates.created);

parentPort?.on('message', (request: SignRequest) => {
  const t0 = performance.now();
  const documents: string[] = [];
  for (let n = request.first; n <= request.last; n++) {
    const credential = parseDocument(certificateSchema, signer.sign(benchCertificate(data.baseUrl, n, data.dates)));
    documents.push(JSON.stringify(asJsonObject(credential)));
  }
  parentPort?.postMessage({ first: request.first, documents, seconds: (performance.now() - t0) / 1000 } satisfies SignResponse);
});
