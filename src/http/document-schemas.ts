// The signed documents' definitions (src/core/credential.ts, built with src/core/validate.ts) as zod schemas, for the
// documentation only: /openapi.json (src/http/openapi.ts) and schema/json/*.schema.json (scripts/export-json-schemas.ts)
// are generated from them with zod's JSON Schema generator, so the docs describe exactly the shapes the validators
// check. Nothing parses with these: validation is src/core's, whose refinements (cross-member rules, calendar dates)
// are code and appear in no JSON Schema.
//
// Each validator maps to one zod schema instance (memoized), so a definition used in several places (the proof, the
// accreditation) is one schema to zod, and a registry of components refers to it by $ref. zod's mini API, whose
// schemas nest in classic ones.
import * as z from 'zod/mini';
import * as credential from '../core/credential.js';
import type { Def, JsonSchemaExtra, Schema } from '../core/validate.js';

const converted = new WeakMap<Schema<unknown>, z.ZodMiniType>();

/** The zod schema that describes what `schema` accepts (without its refinements). */
export function toZod(schema: Schema<unknown>): z.ZodMiniType {
  let out = converted.get(schema);
  if (out === undefined) {
    out = fromDef(schema.def);
    converted.set(schema, out);
  }
  return out;
}

/** Registers JSON Schema keywords the type does not imply; zod's generator merges them into the output. */
function withExtra(schema: z.ZodMiniType, extra: JsonSchemaExtra | undefined): z.ZodMiniType {
  return extra === undefined ? schema : schema.register(z.globalRegistry, extra as z.core.GlobalMeta);
}

function fromDef(def: Def): z.ZodMiniType {
  switch (def.kind) {
    case 'string': {
      const checks: Array<z.core.$ZodCheck<string>> = [];
      if (def.minLength !== undefined) checks.push(z.minLength(def.minLength));
      if (def.maxLength !== undefined) checks.push(z.maxLength(def.maxLength));
      if (def.pattern !== undefined) checks.push(z.regex(def.pattern));
      return withExtra(z.string().check(...checks), def.extra);
    }
    case 'literal':
      return z.literal(def.value);
    case 'enum':
      return z.enum(def.values as [string, ...string[]]);
    case 'int':
      return z.int().check(z.gte(def.minimum), z.lte(def.maximum));
    case 'boolean':
      return z.boolean();
    case 'array': {
      const checks: Array<z.core.$ZodCheck<unknown[]>> = [];
      if (def.minItems !== undefined) checks.push(z.minLength(def.minItems));
      if (def.maxItems !== undefined) checks.push(z.maxLength(def.maxItems));
      return withExtra(z.array(toZod(def.items)).check(...checks), def.extra);
    }
    case 'tuple':
      return withExtra(z.tuple(def.prefixItems.map(toZod) as [z.ZodMiniType, ...z.ZodMiniType[]], toZod(def.items)), def.extra);
    case 'object':
      return z.strictObject(
        Object.fromEntries(
          Object.entries(def.shape).map(([key, m]) => [key, 'optional' in m ? z.optional(toZod(m.optional)) : toZod(m)]),
        ),
      );
    case 'union':
      return z.discriminatedUnion(def.discriminator, def.options.map(toZod) as unknown as [z.ZodMiniObject, ...z.ZodMiniObject[]]);
  }
}

/** One zod object per status event kind, so that the options can be taken apart (openapi.ts makes drafts of them). */
type ObjectPerItem<T extends readonly unknown[]> = { -readonly [K in keyof T]: z.ZodMiniObject };
type EventOptions = ObjectPerItem<typeof credential.STATUS_EVENT_KINDS>;

function eventUnion(schema: Schema<unknown>): z.ZodMiniDiscriminatedUnion<EventOptions> {
  if (schema.def.kind !== 'union' || schema.def.options.length !== credential.STATUS_EVENT_KINDS.length) {
    throw new Error('not the union of the status event kinds');
  }
  return toZod(schema) as z.ZodMiniDiscriminatedUnion<EventOptions>;
}

export const accreditationSchema = toZod(credential.accreditationSchema);
export const certificateDraftSchema = toZod(credential.certificateDraftSchema);
export const certificateIdSchema = toZod(credential.certificateIdSchema);
export const certificateSchema = toZod(credential.certificateSchema);
export const dataIntegrityProofSchema = toZod(credential.dataIntegrityProofSchema);
export const dateTimeSchema = toZod(credential.dateTimeSchema);
export const issuerIdSchema = toZod(credential.issuerIdSchema);
export const issuerKeyAddedSchema = toZod(credential.issuerKeyAddedSchema);
export const issuerKeyRevokedSchema = toZod(credential.issuerKeyRevokedSchema);
export const issuerRegistrationSchema = toZod(credential.issuerRegistrationSchema);
export const keyIdSchema = toZod(credential.keyIdSchema);
export const multikeySchema = toZod(credential.multikeySchema);
export const sha256DigestSchema = toZod(credential.sha256DigestSchema);
export const statusEventDraftSchema = eventUnion(credential.statusEventDraftSchema);
export const statusEventSchema = eventUnion(credential.statusEventSchema);
