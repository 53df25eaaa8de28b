import { newRecordId } from '../admin-api/record-id.js';
import type { PrincipalKind } from '../directory/types.js';
import type { RuleRecord } from '../store/records.js';
import type { Store } from '../store/store.js';
import type { ImportedRule } from './acl-file.js';
import type { ImportProblem, PasswordEntry } from './password-file.js';

export interface ImportSummary {
  readonly created: string[];
  readonly updated: string[];
  readonly rulesAdded: number;
  readonly rulesAlreadyPresent: number;
  readonly problems: ImportProblem[];
}

function sameRule(a: Omit<RuleRecord, 'id' | 'createdAt'>, b: ImportedRule): boolean {
  return (
    JSON.stringify(a.subject) === JSON.stringify(b.subject) &&
    a.pattern === b.pattern &&
    a.effect === b.effect &&
    [...a.access].sort().join() === [...b.access].sort().join()
  );
}

/**
 * Moves a static Mosquitto setup into the store in one transaction: every user becomes an
 * agent or app keeping its password hash, every ACL line a rule. Running it again updates
 * hashes and skips rules that are already there.
 */
export async function importMosquitto(
  store: Store,
  input: {
    readonly entries: readonly PasswordEntry[];
    readonly rules: readonly ImportedRule[];
    readonly kind: PrincipalKind;
    readonly actor: string;
    readonly passwordFile?: string;
  },
): Promise<ImportSummary> {
  return store.mutate(input.actor, async (writer) => {
    const created: string[] = [];
    const updated: string[] = [];
    const problems: ImportProblem[] = [];

    for (const entry of input.entries) {
      const existing = await writer.getPrincipal(entry.username);

      if (existing === undefined) {
        await writer.insertPrincipal({
          id: entry.username,
          kind: input.kind,
          enabled: true,
          superuser: false,
          secretHash: entry.hash,
        });
        created.push(entry.username);
      } else if (existing.kind === input.kind) {
        await writer.setSecretHash(entry.username, entry.hash);
        updated.push(entry.username);
      } else {
        problems.push({
          file: input.passwordFile ?? 'passwords',
          line: entry.line,
          message: `${entry.username} already exists as an ${existing.kind}; skipped`,
        });
      }
    }

    const existingRules = await writer.listRules();
    let rulesAdded = 0;
    let rulesAlreadyPresent = 0;

    for (const rule of input.rules) {
      if (existingRules.some((existing) => sameRule(existing, rule))) {
        rulesAlreadyPresent += 1;
        continue;
      }

      await writer.insertRule({
        id: newRecordId('ru'),
        subject: rule.subject,
        pattern: rule.pattern,
        access: rule.access,
        effect: rule.effect,
      });
      rulesAdded += 1;
    }

    if (created.length + updated.length + rulesAdded > 0) {
      await writer.audit({
        action: 'import.mosquitto',
        target: `${input.kind}s`,
        detail: { created, updated, rulesAdded },
      });
    }

    return { created, updated, rulesAdded, rulesAlreadyPresent, problems };
  });
}
