import { PrincipalId } from '@beckon/shared';
import { hashFormat } from '../secrets/verify-hash.js';

export interface PasswordEntry {
  readonly username: string;
  /** Kept exactly as found, so the user's existing password keeps working. */
  readonly hash: string;
  readonly line: number;
}

export interface ImportProblem {
  readonly file: string;
  readonly line: number;
  readonly message: string;
}

/**
 * Reads a Mosquitto password file (`user:hash` per line, from mosquitto_passwd: `$7$`, `$6$`)
 * or lines with the plug's `PBKDF2$...` hashes. Lines that cannot be imported are reported,
 * never guessed at.
 */
export function parsePasswordFile(
  text: string,
  file: string,
): { entries: PasswordEntry[]; problems: ImportProblem[] } {
  const entries = new Map<string, PasswordEntry>();
  const problems: ImportProblem[] = [];

  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = index + 1;
    const trimmed = raw.trim();

    if (trimmed === '' || trimmed.startsWith('#')) {
      continue;
    }

    const colon = trimmed.indexOf(':');

    if (colon < 1) {
      problems.push({ file, line, message: 'expected "username:hash"' });
      continue;
    }

    const username = trimmed.slice(0, colon);
    const hash = trimmed.slice(colon + 1);

    if (!PrincipalId.safeParse(username).success) {
      problems.push({
        file,
        line,
        message: `username "${username.slice(0, 64)}" is not a valid principal id`,
      });
      continue;
    }

    const format = hashFormat(hash);

    // The fast format is safe only for the 192-bit secrets this service generates; a password
    // file holds passwords people chose, so it keeps its slow formats.
    if (format === 'hmac-sha256') {
      problems.push({
        file,
        line,
        message: `the password of ${username} is in the $hmac-sha256$ format, which is only for secrets the auth-service generates; import the mosquitto_passwd hash instead`,
      });
      continue;
    }

    if (format === undefined) {
      problems.push({
        file,
        line,
        message: `the password of ${username} is not in a supported hash format ($7$, $6$, PBKDF2$); plain-text files must be hashed with mosquitto_passwd -U first`,
      });
      continue;
    }

    if (entries.has(username)) {
      problems.push({ file, line, message: `${username} appears again; the last line wins` });
    }

    entries.set(username, { username, hash, line });
  }

  return { entries: [...entries.values()], problems };
}
