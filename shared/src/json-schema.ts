import { z } from 'zod';
import { ActionDescriptor } from './catalogue.js';
import { Cancel, Command, Inbound, Message, Progress, Result, Status } from './messages.js';
import { CredentialClaims, TrustRoot } from './signing.js';

/** The schemas published for central apps in other languages, by file name. */
export const PUBLISHED_SCHEMAS = {
  message: Message,
  command: Command,
  cancel: Cancel,
  inbound: Inbound,
  result: Result,
  progress: Progress,
  status: Status,
  'action-descriptor': ActionDescriptor,
  'credential-claims': CredentialClaims,
  'trust-root': TrustRoot,
} as const satisfies Record<string, z.ZodType>;

export type PublishedSchemaName = keyof typeof PUBLISHED_SCHEMAS;

/**
 * The JSON Schema (draft 2020-12) text of each published schema, exactly as written under
 * shared/schema/. Refinements that JSON Schema cannot express (calendar validity, expiry after
 * issue) are enforced by the TypeScript parsers only; the files say so in their description.
 */
export function renderJsonSchemas(): Record<PublishedSchemaName, string> {
  const rendered = {} as Record<PublishedSchemaName, string>;

  for (const [name, schema] of Object.entries(PUBLISHED_SCHEMAS) as [
    PublishedSchemaName,
    z.ZodType,
  ][]) {
    const json = z.toJSONSchema(schema, { target: 'draft-2020-12', unrepresentable: 'any' });
    const document = {
      $id: `https://beckon.dev/schema/v1/${name}.json`,
      ...json,
      description: `Beckon v1 ${name}. Generated from @beckon/shared; do not edit.`,
    };
    rendered[name] = `${JSON.stringify(document, null, 2)}\n`;
  }

  return rendered;
}
