// Writes schema/json/*.schema.json from the definitions in src/core/credential.ts, as zod schemas
// (src/http/document-schemas.ts) converted by zod's JSON Schema generator (JSON Schema 2020-12).
// Run: npx tsx scripts/export-json-schemas.ts. test/core/credential.test.ts fails when the committed files
// differ from a fresh export, so regenerate after every schema change.
//
// The files describe shapes only. Rules across members (the issuer and number agree with the id, the proof's
// key belongs to the issuer, validity ordering) and calendar validity of date-times are enforced by the
// validators' refinements, not here.
import { mkdirSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { z } from 'zod';
import {
  certificateDraftSchema,
  certificateSchema,
  issuerKeyAddedSchema,
  issuerKeyRevokedSchema,
  issuerRegistrationSchema,
  statusEventDraftSchema,
  statusEventSchema,
} from '../src/http/document-schemas.js';

const NOTE =
  ' Shapes only: the registry also checks that issuer and number agree with the id, that the proof key belongs' +
  ' to the issuer, date-time calendar validity and date ordering.';

const SCHEMAS: ReadonlyArray<{ file: string; title: string; description: string; schema: z.core.$ZodType }> = [
  {
    file: 'certificate.schema.json',
    title: 'Certrail AI security certificate',
    description:
      'A W3C Verifiable Credential 2.0 secured with an eddsa-jcs-2022 Data Integrity proof by a key of the issuer.',
    schema: certificateSchema,
  },
  {
    file: 'certificate-draft.schema.json',
    title: 'Certrail certificate draft',
    description:
      'An unsigned certificate posted for managed signing; @context, id, type and issuer may be left out.',
    schema: certificateDraftSchema,
  },
  {
    file: 'status-event.schema.json',
    title: 'Certrail certificate status event',
    description:
      "A change of a certificate's status, signed by a key of its issuer and chained to the previous log entry.",
    schema: statusEventSchema,
  },
  {
    file: 'status-event-draft.schema.json',
    title: 'Certrail certificate status event draft',
    description: 'An unsigned status event, posted for managed signing.',
    schema: statusEventDraftSchema,
  },
  {
    file: 'issuer-registration.schema.json',
    title: 'Certrail issuer registration',
    description: "A certification body's registration, signed by the registry key.",
    schema: issuerRegistrationSchema,
  },
  {
    file: 'issuer-key-added.schema.json',
    title: 'Certrail issuer key added',
    description: "A signing key added to an issuer, signed by the registry key.",
    schema: issuerKeyAddedSchema,
  },
  {
    file: 'issuer-key-revoked.schema.json',
    title: 'Certrail issuer key revoked',
    description:
      "An issuer key's revocation, signed by the registry key; compromisedAt invalidates entries logged from then.",
    schema: issuerKeyRevokedSchema,
  },
];

/** File name → file text of every JSON Schema, exactly as committed under schema/json/. */
export function exportJsonSchemas(): Map<string, string> {
  const out = new Map<string, string>();
  for (const { file, title, description, schema } of SCHEMAS) {
    const { $schema, ...rest } = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input' });
    const document = { $schema, title, description: description + NOTE, ...rest };
    out.set(file, `${JSON.stringify(document, null, 2)}\n`);
  }
  return out;
}

export const JSON_SCHEMA_DIR = fileURLToPath(new URL('../schema/json/', import.meta.url));

function main(): void {
  mkdirSync(JSON_SCHEMA_DIR, { recursive: true });
  for (const [file, text] of exportJsonSchemas()) {
    writeFileSync(resolve(JSON_SCHEMA_DIR, file), text);
    console.log(`wrote schema/json/${file}`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) main();
