import { PrincipalId } from '@beckon/shared';
import { TopicPattern } from '../admin-api/topic-pattern.js';
import type { AclAccess, AclSubject } from '../directory/types.js';
import type { ImportProblem } from './password-file.js';

export interface ImportedRule {
  readonly subject: AclSubject;
  readonly pattern: string;
  readonly access: readonly AclAccess[];
  readonly effect: 'allow' | 'deny';
  readonly line: number;
}

const ALL_ACCESS: readonly AclAccess[] = ['read', 'write', 'subscribe'];

// Mosquitto's `read` covers subscribing and receiving; `deny` refuses everything.
const ACCESS_WORDS: Readonly<
  Record<string, { access: readonly AclAccess[]; effect: 'allow' | 'deny' }>
> = {
  read: { access: ['read', 'subscribe'], effect: 'allow' },
  write: { access: ['write'], effect: 'allow' },
  readwrite: { access: ALL_ACCESS, effect: 'allow' },
  deny: { access: ALL_ACCESS, effect: 'deny' },
};

function splitAccess(rest: string): { word: string; topic: string } {
  const match = /^(read|write|readwrite|deny)\s+(.+)$/.exec(rest);

  return match === null
    ? { word: 'readwrite', topic: rest }
    : { word: match[1] ?? 'readwrite', topic: match[2] ?? '' };
}

/**
 * Reads a Mosquitto ACL file: `user <name>` starts a user's block, `topic [access] <t>` adds a
 * rule for that user, `pattern [access] <t>` one for everybody (with `%u`). Topic lines before
 * any `user` line are for anonymous clients, which Beckon does not have: they are reported.
 */
export function parseAclFile(
  text: string,
  file: string,
): { rules: ImportedRule[]; problems: ImportProblem[] } {
  const rules: ImportedRule[] = [];
  const problems: ImportProblem[] = [];
  let user: string | undefined;
  let userValid = false;

  for (const [index, raw] of text.split(/\r?\n/).entries()) {
    const line = index + 1;
    const trimmed = raw.trim();

    if (trimmed === '' || trimmed.startsWith('#')) {
      continue;
    }

    const match = /^(user|topic|pattern)\s+(.+)$/.exec(trimmed);

    if (match === null) {
      problems.push({ file, line, message: 'expected a "user", "topic" or "pattern" line' });
      continue;
    }

    const [, keyword, rest = ''] = match;

    if (keyword === 'user') {
      user = rest.trim();
      userValid = PrincipalId.safeParse(user).success;

      if (!userValid) {
        problems.push({
          file,
          line,
          message: `user "${user.slice(0, 64)}" is not a valid principal id; its topic lines are skipped`,
        });
      }

      continue;
    }

    const { word, topic } = splitAccess(rest.trim());
    const mapped = ACCESS_WORDS[word] ?? { access: ALL_ACCESS, effect: 'allow' as const };

    if (keyword === 'pattern') {
      if (topic.includes('%c')) {
        problems.push({
          file,
          line,
          message:
            'patterns with %c (client id) cannot be imported: the broker never sends the client id',
        });
        continue;
      }
    } else if (user === undefined) {
      problems.push({
        file,
        line,
        message: 'topic lines before any "user" line are for anonymous clients; skipped',
      });
      continue;
    } else if (!userValid) {
      continue;
    } else if (topic.includes('%')) {
      problems.push({
        file,
        line,
        message:
          'a "topic" line with "%" would be substituted by Beckon but not by Mosquitto; skipped',
      });
      continue;
    }

    if (!TopicPattern.safeParse(topic).success) {
      problems.push({ file, line, message: `"${topic.slice(0, 64)}" is not a valid topic filter` });
      continue;
    }

    rules.push({
      subject:
        keyword === 'pattern' || user === undefined
          ? { kind: 'all' }
          : { kind: 'principal', id: user },
      pattern: topic,
      access: mapped.access,
      effect: mapped.effect,
      line,
    });
  }

  return { rules, problems };
}
