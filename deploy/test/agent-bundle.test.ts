import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startMosquitto, type RunningMosquitto } from '@beckon/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildAgentBundle, type AgentBundle } from '../bundle/build-agent-bundle.js';

const run = promisify(execFile);
const FIXTURE_ENTRY = join(import.meta.dirname, 'fixtures', 'bundle-entry.ts');
const EXTRA_FILE = join(import.meta.dirname, '..', 'systemd', 'beckon-agent.service');
const RUN_TIMEOUT_MS = 20_000;

// One build for the suite: it copies and rewrites a ~100 MB Node.js binary.
describe('the self-contained agent bundle', () => {
  let outDir: string;
  let bundle: AgentBundle;
  let broker: RunningMosquitto;

  beforeAll(async () => {
    outDir = await mkdtemp(join(tmpdir(), 'beckon-bundle-test-'));
    broker = await startMosquitto();
    bundle = await buildAgentBundle({
      entry: FIXTURE_ENTRY,
      outDir,
      conditions: ['beckon-source'],
      extraFiles: [EXTRA_FILE],
    });
  });

  afterAll(async () => {
    await broker.dispose();
    await rm(outDir, { recursive: true, force: true });
  });

  it('is named for the platform and architecture install.sh asks for', () => {
    expect(bundle.executable).toBe(join(outDir, `beckon-agent-linux-${process.arch}`));
    expect(bundle.nodeVersion).toBe(process.version);
    expect(bundle.warnings).toEqual([]);
  });

  it('writes a checksum file that sha256sum -c accepts', async () => {
    const line = await readFile(bundle.checksumFile, 'utf8');
    expect(line).toBe(`${bundle.sha256}  beckon-agent-linux-${process.arch}\n`);

    const { stdout } = await run('sha256sum', ['-c', bundle.checksumFile], { cwd: outDir });
    expect(stdout).toContain(': OK');
  });

  it('copies the extra files beside the executable', async () => {
    const copied = await readFile(join(outDir, 'beckon-agent.service'), 'utf8');
    expect(copied).toBe(await readFile(EXTRA_FILE, 'utf8'));
  });

  it('is executable by everyone and writable only by its owner', async () => {
    const { mode } = await stat(bundle.executable);
    expect(mode & 0o777).toBe(0o755);
  });

  it('runs the bundled contract and MQTT.js against a real broker with no node on PATH', async () => {
    const { stdout, stderr } = await run(bundle.executable, [broker.url, 'agent-7'], {
      env: { PATH: '/nonexistent' },
      timeout: RUN_TIMEOUT_MS,
    });

    const line = JSON.parse(stdout.trim()) as Record<string, unknown>;
    expect(line['topic']).toBe('beckon/v1/agents/agent-7/status');
    expect(line['parsed']).toEqual({ scope: 'agent', agentId: 'agent-7', channel: 'status' });
    expect(JSON.parse(line['payload'] as string)).toEqual({
      argv: 4,
      url: `file://${bundle.executable}`,
    });
    // No SEA warning about loading modules from disk: the optional ones are stubbed out.
    expect(stderr).toBe('');
  });

  it('refuses an entry that does not resolve, naming the missing import', async () => {
    const broken = join(outDir, 'broken-entry.mjs');
    await writeFile(broken, "import 'no-such-package-anywhere';\n");

    await expect(buildAgentBundle({ entry: broken, outDir })).rejects.toThrow(
      /no-such-package-anywhere/,
    );
  });
});
