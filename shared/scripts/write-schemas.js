// Writes shared/schema/*.json from the built package; `pnpm schemas` builds first.
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { renderJsonSchemas } from '../dist/index.js';

const folder = join(import.meta.dirname, '..', 'schema');
mkdirSync(folder, { recursive: true });

for (const file of readdirSync(folder)) {
  rmSync(join(folder, file));
}

for (const [name, text] of Object.entries(renderJsonSchemas())) {
  writeFileSync(join(folder, `${name}.json`), text);
}
