// Builds the self-contained agent executable that install.sh downloads:
//   pnpm build && pnpm --filter @beckon/deploy run bundle:agent
// See docs/deploy.md ("The agent bundle") for what it pins and why.
import { parseArgs } from 'node:util';
import { resolve } from 'node:path';
import { z } from 'zod';
import { buildAgentBundle } from './build-agent-bundle.js';

const USAGE = `usage: node dist/bundle/build.js --entry <file.js> --out <dir>
       [--name beckon-agent] [--node <node binary>] [--unit <file>] [--install-script <file>]
       [--condition <package export condition>]...
`;

const Flags = z.strictObject({
  entry: z.string().min(1, { error: '--entry is required (the agent CLI, agent/dist/cli.js)' }),
  out: z.string().min(1, { error: '--out is required (the folder for the executable)' }),
  name: z
    .string()
    .regex(/^[a-z][a-z0-9-]{0,63}$/, { error: '--name must be lower-case letters, digits, -' })
    .optional(),
  node: z.string().min(1).optional(),
  condition: z.array(z.string().regex(/^[a-z][a-z0-9-]*$/)).optional(),
  unit: z.string().min(1).optional(),
  'install-script': z.string().min(1).optional(),
  help: z.boolean().optional(),
});

function fail(message: string): never {
  process.stderr.write(`bundle: ${message}\n${USAGE}`);
  process.exit(2);
}

function readFlags(): z.infer<typeof Flags> {
  let values: Record<string, unknown>;

  try {
    ({ values } = parseArgs({
      strict: true,
      options: {
        entry: { type: 'string' },
        out: { type: 'string' },
        name: { type: 'string' },
        node: { type: 'string' },
        condition: { type: 'string', multiple: true },
        unit: { type: 'string' },
        'install-script': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }));
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
  }

  if (values['help'] === true) {
    process.stdout.write(USAGE);
    process.exit(0);
  }

  const parsed = Flags.safeParse({ entry: '', out: '', ...values });

  if (!parsed.success) {
    fail(parsed.error.issues.map((issue) => issue.message).join('; '));
  }

  return parsed.data;
}

const flags = readFlags();
const extraFiles = [flags.unit, flags['install-script']].filter((file) => file !== undefined);

const bundle = await buildAgentBundle({
  entry: resolve(flags.entry),
  outDir: resolve(flags.out),
  ...(flags.name === undefined ? {} : { name: flags.name }),
  ...(flags.node === undefined ? {} : { nodeBinary: resolve(flags.node) }),
  conditions: flags.condition ?? [],
  extraFiles: extraFiles.map((file) => resolve(file)),
});

for (const warning of bundle.warnings) {
  process.stderr.write(`bundle: warning: ${warning}\n`);
}

process.stdout.write(
  `${bundle.executable}\n  node ${bundle.nodeVersion}, ${bundle.bytes} bytes\n` +
    `  sha256 ${bundle.sha256} (${bundle.checksumFile})\n`,
);
