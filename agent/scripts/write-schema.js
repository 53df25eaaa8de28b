// Writes agent/schema/agent-config.json from the built package; `pnpm run schema` builds first.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderConfigJsonSchema } from '../dist/index.js';

const folder = join(import.meta.dirname, '..', 'schema');
mkdirSync(folder, { recursive: true });
writeFileSync(join(folder, 'agent-config.json'), renderConfigJsonSchema());
