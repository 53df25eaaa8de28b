import { readFile } from 'node:fs/promises';
import type { ActionConfig } from '../config/schema.js';

/** The ids an action runs as; an absent uid keeps the agent's own. */
export interface RunAs {
  readonly uid?: number;
  readonly gid: number;
}

export interface AccountSources {
  readonly passwdFile?: string;
  readonly groupFile?: string;
  /** The agent's own ids; switching to other ids needs root. */
  readonly uid?: number;
  readonly gid?: number;
}

export type AccountsResult =
  | { readonly ok: true; readonly accounts: ReadonlyMap<string, RunAs> }
  | { readonly ok: false; readonly errors: readonly string[] };

interface Entry {
  readonly id: number;
  /** For users: the primary group. */
  readonly gid?: number;
}

const NUMERIC_ID = /^\d{1,10}$/;
const MAX_ID = 2 ** 32 - 2;

// passwd and group share the `name:password:id:...` layout; the fourth field of passwd is the
// primary group.
function parseDatabase(text: string, withGroup: boolean): Map<string, Entry> {
  const entries = new Map<string, Entry>();

  for (const line of text.split('\n')) {
    const [name, , id, gid] = line.split(':');

    if (name === undefined || id === undefined || !NUMERIC_ID.test(id) || entries.has(name)) {
      continue;
    }

    const entry: Entry =
      withGroup && gid !== undefined && NUMERIC_ID.test(gid)
        ? { id: Number(id), gid: Number(gid) }
        : { id: Number(id) };
    entries.set(name, entry);
  }

  return entries;
}

async function readDatabase(path: string): Promise<string | Error> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    return error as Error;
  }
}

interface Databases {
  readonly users: Map<string, Entry>;
  readonly groups: Map<string, Entry>;
  readonly passwdFile: string;
  readonly groupFile: string;
}

function findUser(value: string, db: Databases): Entry | string {
  if (NUMERIC_ID.test(value)) {
    const id = Number(value);
    const known = [...db.users.values()].find((entry) => entry.id === id);

    return id > MAX_ID ? `uid ${value} is out of range` : (known ?? { id });
  }

  return db.users.get(value) ?? `no user "${value}" in ${db.passwdFile}`;
}

function findGroup(value: string, db: Databases): number | string {
  if (NUMERIC_ID.test(value)) {
    return Number(value) > MAX_ID ? `gid ${value} is out of range` : Number(value);
  }

  return db.groups.get(value)?.id ?? `no group "${value}" in ${db.groupFile}`;
}

function resolveOne(action: ActionConfig, db: Databases): RunAs | string {
  const user = action.user === undefined ? undefined : findUser(action.user, db);
  const group = action.group === undefined ? undefined : findGroup(action.group, db);

  if (typeof user === 'string') {
    return `user: ${user}`;
  }

  if (typeof group === 'string') {
    return `group: ${group}`;
  }

  // Without an explicit group the user's primary group is used: leaving the agent's (root)
  // group in place would hand the action root's group permissions.
  const gid = group ?? user?.gid;

  if (gid === undefined) {
    return `user: uid ${action.user ?? ''} has no entry in ${db.passwdFile}; set "group" too`;
  }

  return user === undefined ? { gid } : { uid: user.id, gid };
}

/**
 * Resolves every action's `user`/`group` to numeric ids once, at start-up, so that a missing
 * account is a configuration error rather than a failed run. Keyed by action name; actions
 * without `user` or `group` are absent. Errors name the key (`actions.x.user: ...`).
 */
export async function resolveAccounts(
  actions: Readonly<Record<string, ActionConfig>>,
  sources: AccountSources = {},
): Promise<AccountsResult> {
  const needed = Object.entries(actions).filter(
    ([, action]) => action.user !== undefined || action.group !== undefined,
  );

  if (needed.length === 0) {
    return { ok: true, accounts: new Map() };
  }

  const passwdFile = sources.passwdFile ?? '/etc/passwd';
  const groupFile = sources.groupFile ?? '/etc/group';
  const [passwd, group] = await Promise.all([readDatabase(passwdFile), readDatabase(groupFile)]);

  if (passwd instanceof Error || group instanceof Error) {
    const [file, error] = passwd instanceof Error ? [passwdFile, passwd] : [groupFile, group];
    const code = (error as NodeJS.ErrnoException).code ?? 'unknown error';

    return { ok: false, errors: [`${file}: cannot read the file (${code})`] };
  }

  const db = {
    users: parseDatabase(passwd, true),
    groups: parseDatabase(group, false),
    passwdFile,
    groupFile,
  };
  const ownUid = sources.uid ?? process.getuid?.();
  const ownGid = sources.gid ?? process.getgid?.();
  const accounts = new Map<string, RunAs>();
  const errors: string[] = [];

  for (const [name, action] of needed) {
    const resolved = resolveOne(action, db);

    if (typeof resolved === 'string') {
      errors.push(`actions.${name}.${resolved}`);
    } else if (ownUid !== 0 && (resolved.uid ?? ownUid) !== ownUid) {
      errors.push(`actions.${name}.user: the agent runs as uid ${ownUid} and cannot switch`);
    } else if (ownUid !== 0 && resolved.gid !== ownGid) {
      errors.push(`actions.${name}.group: the agent runs as uid ${ownUid} and cannot switch`);
    } else {
      accounts.set(name, resolved);
    }
  }

  return errors.length > 0 ? { ok: false, errors } : { ok: true, accounts };
}
