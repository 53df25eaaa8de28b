import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ActionDescriptor } from '@beckon/shared';
import { describe, expect, it } from 'vitest';
import {
  checkConfigReport,
  describeActions,
  loadConfig,
  renderConfigJsonSchema,
} from '../src/index.js';

const agentDir = join(import.meta.dirname, '..');
const examplePath = join(agentDir, 'examples', 'agent.yaml');

describe('the config JSON Schema for editors', () => {
  it('matches the zod schema (run `pnpm --filter @beckon/agent run schema` after changing it)', () => {
    const written = readFileSync(join(agentDir, 'schema', 'agent-config.json'), 'utf8');

    expect(written, 'agent/schema/agent-config.json is stale').toBe(renderConfigJsonSchema());
  });

  it('describes the input: keys with defaults are optional, unknown keys are not allowed', () => {
    const schema = JSON.parse(renderConfigJsonSchema()) as {
      required: string[];
      additionalProperties: boolean;
      properties: { actions: { additionalProperties: { required: string[] } } };
    };

    expect(schema.required).toEqual(['broker']);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.properties.actions.additionalProperties.required).toEqual(['argv']);
  });
});

describe('the example config', () => {
  it('points editors at the schema', () => {
    expect(readFileSync(examplePath, 'utf8').split('\n')[0]).toBe(
      '# yaml-language-server: $schema=../schema/agent-config.json',
    );
  });

  it('loads cleanly and publishes a valid catalogue', async () => {
    const result = await loadConfig(examplePath);

    expect(result.ok || result.errors).toBe(true);
    if (!result.ok) {
      return;
    }

    const catalogue = describeActions(result.config);

    expect(catalogue.map((descriptor) => descriptor.name)).toEqual([
      'ping',
      'describe',
      'deploy',
      'disk-usage',
      'restart-service',
      'rotate-log',
    ]);
    expect(catalogue.every((descriptor) => ActionDescriptor.safeParse(descriptor).success)).toBe(
      true,
    );
    expect(checkConfigReport(result.config)).toContain('deploy - Check out a release tag');
  });
});
