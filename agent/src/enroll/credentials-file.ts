import { randomBytes } from 'node:crypto';
import { open, rename, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { describeIssues, EnrollResponse, safeParse, Timestamp } from '@beckon/shared';
import { z } from 'zod';

/**
 * What `beckon-agent enroll` writes and the daemon reads: the auth-service's answer, when it was
 * received and where to refresh the trust root from.
 */
export const AgentCredentials = EnrollResponse.extend({
  enrolledAt: Timestamp,
  /** The auth-service public listener the agent enrolled at; trust refreshes go there. */
  authUrl: z.url({ protocol: /^https?$/ }).optional(),
});

export type AgentCredentials = z.infer<typeof AgentCredentials>;

/** A real credentials file is about 1 KiB; anything far larger is not one. */
const MAX_CREDENTIALS_BYTES = 64 * 1_024;
const OWNER_ONLY_MODE = 0o600;
const GROUP_OR_OTHER_BITS = 0o077;

export class CredentialsError extends Error {
  override readonly name = 'CredentialsError';
}

/**
 * Reads and validates the credentials file. It holds the agent's broker password, so a file
 * that anyone but its owner may read or write is refused outright (as ssh refuses a loose
 * private key): warning and carrying on would leave the secret exposed on every start.
 */
export async function readCredentials(path: string): Promise<AgentCredentials> {
  let text: string;

  try {
    const handle = await open(path, 'r');

    try {
      const stats = await handle.stat();

      if ((stats.mode & GROUP_OR_OTHER_BITS) !== 0) {
        const mode = (stats.mode & 0o777).toString(8).padStart(4, '0');
        throw new CredentialsError(
          `${path}: mode ${mode} lets group or others access the agent's password; ` +
            `run chmod 600 ${path}`,
        );
      }

      if (stats.size > MAX_CREDENTIALS_BYTES) {
        throw new CredentialsError(`${path}: larger than ${MAX_CREDENTIALS_BYTES} bytes`);
      }

      text = await handle.readFile('utf8');
    } finally {
      await handle.close();
    }
  } catch (error) {
    if (error instanceof CredentialsError) {
      throw error;
    }

    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';
    throw new CredentialsError(`${path}: cannot read the file (${code})`, { cause: error });
  }

  let json: unknown;

  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new CredentialsError(`${path}: is not valid JSON`, { cause: error });
  }

  const parsed = safeParse(AgentCredentials, json);

  if (!parsed.ok) {
    throw new CredentialsError(`${path}: ${describeIssues(parsed.issues)}`);
  }

  return parsed.value;
}

/**
 * Replaces the credentials file atomically: a temp file in the same folder, created 0600 so
 * the secret is never readable by others even for a moment, synced, then renamed over it.
 */
export async function writeCredentials(path: string, credentials: AgentCredentials): Promise<void> {
  const validated = AgentCredentials.parse(credentials);
  const folder = dirname(path);
  const temp = join(folder, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const handle = await open(temp, 'wx', OWNER_ONLY_MODE);

  try {
    try {
      await handle.writeFile(`${JSON.stringify(validated, null, 2)}\n`);
      await handle.chmod(OWNER_ONLY_MODE);
      await handle.sync();
    } finally {
      await handle.close();
    }

    await rename(temp, path);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  }

  await syncFolder(folder);
}

/** Makes a rename in `folder` durable across a power cut. */
export async function syncFolder(folder: string): Promise<void> {
  const handle = await open(folder, 'r');

  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
