import { readFile } from 'node:fs/promises';
import { validate } from 'dockerfile-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { REPO_DIR, deployPath } from './helpers.js';

// hadolint is neither in Debian nor on npm here, and no Docker engine runs on the CI machines
// to build the images. Two checks stand in: dockerfile-utils (the validator behind the
// Dockerfile language server: syntax, flags, durations, duplicate CMD and the like), and the
// rules that matter most for these images checked on the parsed files: a non-root user,
// pinned base images, a health check, multi-stage builds, exec-form commands, apt hygiene.

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

interface Stage {
  readonly from: string;
  readonly name: string | undefined;
  readonly instructions: Instruction[];
}

interface Dockerfile {
  readonly args: Map<string, string>;
  readonly stages: Stage[];
}

function parseDockerfile(text: string): Dockerfile {
  const logical = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');

  const args = new Map<string, string>();
  const stages: Stage[] = [];

  for (const line of logical) {
    const space = line.indexOf(' ');
    const keyword = line.slice(0, space).toUpperCase();
    const rest = line.slice(space + 1).trim();

    if (keyword === 'FROM') {
      const [image, as, name] = rest.replace(/^--platform=\S+\s+/, '').split(/\s+/);
      stages.push({
        from: image ?? '',
        name: as?.toUpperCase() === 'AS' ? name : undefined,
        instructions: [],
      });
      continue;
    }

    const stage = stages.at(-1);

    if (stage === undefined) {
      if (keyword === 'ARG') {
        const [name, value] = rest.split('=');
        args.set(name!, value ?? '');
      }

      continue;
    }

    stage.instructions.push({ keyword, args: rest });
  }

  return { args, stages };
}

function resolveArgs(reference: string, args: Map<string, string>): string {
  return reference.replace(/\$\{(\w+)\}|\$(\w+)/g, (_match, braced?: string, bare?: string) => {
    const name = braced ?? bare ?? '';
    return args.get(name) ?? `<unset ${name}>`;
  });
}

function instructionsOf(stage: Stage, keyword: string): Instruction[] {
  return stage.instructions.filter((instruction) => instruction.keyword === keyword);
}

const DOCKERFILES = {
  broker: deployPath('mosquitto', 'Dockerfile'),
  'auth-service': deployPath('auth-service', 'Dockerfile'),
} as const;

describe.each(Object.entries(DOCKERFILES))('the %s Dockerfile', (_name, path) => {
  let dockerfile: Dockerfile;
  let final: Stage;

  beforeAll(async () => {
    dockerfile = parseDockerfile(await readFile(path, 'utf8'));
    final = dockerfile.stages.at(-1)!;
  });

  it('passes the Dockerfile validator with nothing to report', async () => {
    const text = await readFile(path, 'utf8');
    const spoiled = text.replace(/--interval=\S+/, '--interval=often') + 'CMD ["true"]\n';

    expect(validate(text).map((diagnostic) => diagnostic.message)).toEqual([]);
    // The same file with a bad health-check interval and a second CMD: the validator is live.
    expect(validate(spoiled).length).toBeGreaterThanOrEqual(2);
  });

  it('starts from images with an explicit version, never latest', () => {
    const stageNames = new Set(dockerfile.stages.map((stage) => stage.name));

    for (const stage of dockerfile.stages) {
      const image = resolveArgs(stage.from, dockerfile.args);

      if (stageNames.has(image)) {
        continue;
      }

      expect(image).toMatch(/^[\w./-]+:[\w.-]+(@sha256:\S+)?$/);
      expect(image).not.toMatch(/:latest(@|$)/);
      expect(image).not.toContain('<unset');
    }
  });

  it('runs the final stage as a numeric non-root user', () => {
    const users = instructionsOf(final, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = resolveArgs(
      users.at(-1)!.args,
      new Map([...dockerfile.args, ['BROKER_UID', '1883']]),
    );
    expect(user).toMatch(/^\d+(:\d+)?$/);
    expect(user.split(':')[0]).not.toBe('0');
  });

  it('declares a health check in exec form', () => {
    const [healthcheck] = instructionsOf(final, 'HEALTHCHECK');
    expect(healthcheck?.args).toMatch(/CMD \[".+"\]$/);
  });

  it('uses exec form for CMD and ENTRYPOINT, so signals reach the process', () => {
    for (const instruction of [
      ...instructionsOf(final, 'CMD'),
      ...instructionsOf(final, 'ENTRYPOINT'),
    ]) {
      expect(instruction.args).toMatch(/^\[.*\]$/);
    }
  });

  it('keeps apt installs lean and cleans their lists, and never uses ADD, sudo or cd', () => {
    for (const stage of dockerfile.stages) {
      for (const run of instructionsOf(stage, 'RUN')) {
        if (run.args.includes('apt-get install')) {
          expect(run.args).toContain('--no-install-recommends');
          expect(run.args).toContain('rm -rf /var/lib/apt/lists/*');
        }

        expect(run.args).not.toMatch(/\bsudo\b|(^|&&\s*)cd\s/);
      }

      expect(instructionsOf(stage, 'ADD')).toEqual([]);
    }
  });

  it('copies only from stages it defines', () => {
    const stageNames = new Set(dockerfile.stages.map((stage) => stage.name));

    for (const stage of dockerfile.stages) {
      for (const copy of instructionsOf(stage, 'COPY')) {
        const from = /--from=(\S+)/.exec(copy.args)?.[1];

        if (from !== undefined) {
          expect(stageNames.has(from), copy.args).toBe(true);
        }
      }
    }
  });
});

describe('the broker Dockerfile', () => {
  it('builds on the mosquitto-go-auth image pinned by digest', async () => {
    const text = await readFile(DOCKERFILES.broker, 'utf8');
    const { stages } = parseDockerfile(text);
    expect(stages).toHaveLength(1);

    const match = /^iegomez\/mosquitto-go-auth:([\w.-]+)@sha256:(\S+)$/.exec(stages[0]!.from);
    expect(match?.[1]).toBe('3.0.0-mosquitto_2.0.18');

    // Either a real digest, or the marked placeholder that stops `docker build` until an
    // operator fills it in (and that the file explains).
    const digest = match?.[2] ?? '';

    if (!/^[0-9a-f]{64}$/.test(digest)) {
      expect(digest).toMatch(/^REPLACE_WITH_/);
      expect(text).toContain('PLACEHOLDER DIGEST');
      expect(text).toContain('docker buildx imagetools inspect');
    }
  });

  it('installs the Beckon mosquitto.conf where the image reads it', async () => {
    const { stages } = parseDockerfile(await readFile(DOCKERFILES.broker, 'utf8'));
    const copies = instructionsOf(stages[0]!, 'COPY').map((copy) => copy.args);
    expect(copies).toContainEqual(
      expect.stringMatching(/mosquitto\.conf \/etc\/mosquitto\/mosquitto\.conf$/),
    );
    expect(instructionsOf(stages[0]!, 'CMD')[0]?.args).toBe(
      '["/usr/sbin/mosquitto", "-c", "/etc/mosquitto/mosquitto.conf"]',
    );
  });
});

describe('the auth-service Dockerfile', () => {
  let dockerfile: Dockerfile;

  beforeAll(async () => {
    dockerfile = parseDockerfile(await readFile(DOCKERFILES['auth-service'], 'utf8'));
  });

  it('is multi-stage: builds with pnpm, runs a separate slim stage', () => {
    const names = dockerfile.stages.map((stage) => stage.name);
    expect(names).toEqual(['build', 'agent-bundle', 'prod', 'runtime']);

    const runtime = dockerfile.stages.at(-1)!;
    expect(resolveArgs(runtime.from, dockerfile.args)).toMatch(/^node:20\.[\d.]+-bookworm-slim$/);
    expect(
      instructionsOf(runtime, 'RUN')
        .map((run) => run.args)
        .join(' '),
    ).not.toContain('pnpm');
  });

  it('ships production dependencies only, and the agent bundle it serves', () => {
    const prod = dockerfile.stages.find((stage) => stage.name === 'prod')!;
    expect(instructionsOf(prod, 'RUN')[0]?.args).toContain('deploy --prod');

    const runtime = dockerfile.stages.at(-1)!;
    const copies = instructionsOf(runtime, 'COPY').map((copy) => copy.args);
    expect(copies).toEqual([
      '--from=prod --chown=root:root /out /app',
      '--from=agent-bundle --chown=root:root /src/dist/bundle /srv/beckon/agent',
    ]);
  });

  it('writes only to the store volume', () => {
    const runtime = dockerfile.stages.at(-1)!;
    expect(instructionsOf(runtime, 'VOLUME').map((volume) => volume.args)).toEqual([
      '["/var/lib/beckon-auth"]',
    ]);
  });

  it('has a .dockerignore that keeps dependencies, builds and history out of the context', async () => {
    const ignored = (await readFile(`${REPO_DIR}/.dockerignore`, 'utf8')).split('\n');
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist', '.git']));
  });
});
