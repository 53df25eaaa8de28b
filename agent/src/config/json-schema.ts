import { z } from 'zod';
import { AgentConfig } from './schema.js';

/** Where editors find the schema; the example config points here. */
export const CONFIG_SCHEMA_ID = 'https://beckon.dev/schema/v1/agent-config.json';

/**
 * The JSON Schema (draft 2020-12) of the agent's config file, for editors, exactly as written
 * to agent/schema/agent-config.json. It describes the input: keys with defaults are optional.
 * Checks JSON Schema cannot express (argv references, absolute program paths, built-in names)
 * are made by `validateConfig` only.
 */
export function renderConfigJsonSchema(): string {
  const json = z.toJSONSchema(AgentConfig, {
    target: 'draft-2020-12',
    io: 'input',
    unrepresentable: 'any',
  });
  const document = {
    $id: CONFIG_SCHEMA_ID,
    ...json,
    title: 'Beckon agent configuration',
    description:
      'The config file of beckon-agent (YAML or JSON). Generated from @beckon/agent; do not edit.',
  };

  return `${JSON.stringify(document, null, 2)}\n`;
}
