import { writeFile } from 'node:fs/promises';
import { generateSigningKeyPair } from '@beckon/shared';
import { exportJWK } from 'jose';
import { BeckonError, invalidArgument } from '../errors.js';

/** Private keys are for the app's eyes only. */
const PRIVATE_KEY_FILE_MODE = 0o600;

/**
 * Writes a new private JWK (mode 0600, never over an existing file unless `force`) and returns
 * the public JWK the operator registers with the auth-service.
 */
export async function keygen(
  path: string,
  alg: string | undefined,
  force: boolean,
): Promise<Record<string, unknown>> {
  if (alg !== undefined && alg !== 'EdDSA' && alg !== 'ES256') {
    throw invalidArgument('--alg', `must be EdDSA or ES256, got ${JSON.stringify(alg)}`);
  }

  const pair = await generateSigningKeyPair(alg ?? 'EdDSA');
  const privateJwk = await exportJWK(pair.privateKey);

  try {
    await writeFile(path, `${JSON.stringify(privateJwk, null, 2)}\n`, {
      mode: PRIVATE_KEY_FILE_MODE,
      flag: force ? 'w' : 'wx',
    });
  } catch (error) {
    const exists = (error as NodeJS.ErrnoException).code === 'EEXIST';
    throw new BeckonError(
      'invalid_arguments',
      exists ? `--out: ${path} exists; pass --force to replace it` : `--out: cannot write ${path}`,
      { argument: '--out', cause: error },
    );
  }

  return { ...pair.publicJwk, alg: pair.alg, use: 'sig' };
}
