import { fileURLToPath } from 'node:url';

/** The repository root, for the built CLIs (spawned from dist/, after `pnpm build`). */
export const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
