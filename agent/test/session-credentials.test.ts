import { chmod, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CredentialsError,
  readCredentials,
  writeCredentials,
  type AgentCredentials,
} from '../src/enroll/credentials-file.js';
import { removeDir, tempDir } from './support/harness.js';
import { createTestTrust } from './support/signing.js';

let dir: string;
let credentials: AgentCredentials;

beforeEach(async () => {
  dir = await tempDir('credentials');
  credentials = {
    agentId: 'agent-1',
    username: 'agent-1',
    password: 'a-password',
    groups: ['web'],
    trustRoot: (await createTestTrust()).trustRoot,
    enrolledAt: new Date().toISOString(),
    authUrl: 'https://auth.example.com',
  };
});

afterEach(async () => {
  await removeDir(dir);
});

describe('the credentials file', () => {
  it('is written owner-only and atomically, leaving no temp file behind', async () => {
    const path = join(dir, 'credentials.json');
    await writeCredentials(path, credentials);

    expect((await stat(path)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['credentials.json']);
    expect(await readCredentials(path)).toEqual(credentials);
  });

  it('is refused when group or others may read it, saying how to fix it', async () => {
    const path = join(dir, 'credentials.json');
    await writeCredentials(path, credentials);
    await chmod(path, 0o644);

    await expect(readCredentials(path)).rejects.toThrow(
      `${path}: mode 0644 lets group or others access the agent's password; run chmod 600 ${path}`,
    );
  });

  it('names the field that is wrong', async () => {
    const path = join(dir, 'credentials.json');
    await writeFile(path, JSON.stringify({ ...credentials, groups: 'web' }), { mode: 0o600 });

    const error = await readCredentials(path).catch((caught: unknown) => caught);

    expect(error).toBeInstanceOf(CredentialsError);
    expect((error as Error).message).toContain('groups');
  });

  it('says when the file is missing', async () => {
    await expect(readCredentials(join(dir, 'absent.json'))).rejects.toThrow('(ENOENT)');
  });
});
