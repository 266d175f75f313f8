// The one error type core throws. HTTP maps `code` to a status in src/http/problem.ts, in one place.

export type RegistryErrorCode =
  | 'bad-request'
  | 'bad-json'
  | 'bad-range'
  | 'bad-signature'
  | 'not-found'
  | 'entry-too-large'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'unauthorized'
  | 'forbidden'
  | 'conflict'
  | 'log-integrity'
  | 'unavailable';

export class RegistryError extends Error {
  readonly code: RegistryErrorCode;
  readonly detail: string;

  constructor(code: RegistryErrorCode, detail: string) {
    super(`${code}: ${detail}`);
    this.name = 'RegistryError';
    this.code = code;
    this.detail = detail;
  }
}
