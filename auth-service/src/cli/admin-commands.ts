import { readFileSync } from 'node:fs';
import type { AdminClient } from './admin-client.js';
import {
  assertOnly,
  durationFlag,
  integerFlag,
  listFlag,
  positionalArgs,
  requiredFlag,
  stringFlag,
  type FlagName,
  type Flags,
} from './flags.js';
import {
  auditLines,
  enrollTokenLine,
  enrollTokenLines,
  explainText,
  field,
  grantLine,
  grantLines,
  groupLine,
  groupLines,
  principalLine,
  principalLines,
  ruleLine,
  ruleLines,
  str,
  trustLines,
} from './human-output.js';
import { UsageError } from './usage.js';

export interface CommandOutput {
  /** What --json prints: the API's answer. */
  readonly data: unknown;
  readonly human: string;
}

const ACCESS_WORDS = new Set(['read', 'write', 'subscribe']);

function segment(value: string): string {
  return encodeURIComponent(value);
}

// `--jwk '{"kty":...}'` or `--jwk @key.json`.
function jwkFlag(flags: Flags): unknown {
  const value = stringFlag(flags, 'jwk');

  if (value === undefined) {
    return undefined;
  }

  let text = value;

  if (value.startsWith('@')) {
    try {
      text = readFileSync(value.slice(1), 'utf8');
    } catch {
      throw new UsageError(`cannot read the key file ${value.slice(1)}`);
    }
  }

  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new UsageError('--jwk must be a JSON Web Key, or @FILE holding one');
  }
}

function subjectFlag(flags: Flags): unknown {
  const value = requiredFlag(flags, 'subject');

  if (value === 'all') {
    return { kind: 'all' };
  }

  const [kind, ...rest] = value.split(':');
  const name = rest.join(':');

  if (kind === 'principal') {
    return { kind: 'principal', id: name };
  }

  if (kind === 'group') {
    return { kind: 'group', name };
  }

  throw new UsageError('--subject must be principal:ID, group:NAME or all');
}

type Principals = 'agents' | 'apps';

async function principalCommand(
  client: AdminClient,
  resource: Principals,
  verb: string,
  args: string[],
  flags: Flags,
): Promise<CommandOutput> {
  const kind = resource === 'agents' ? 'agent' : 'app';
  const base = `/v1/${resource}`;

  switch (verb) {
    case 'list': {
      assertOnly(flags, []);
      positionalArgs(args, []);

      const data = await client.request('GET', base);

      return { data, human: principalLines(field(data, resource)) };
    }

    case 'add': {
      assertOnly(flags, kind === 'app' ? ['groups', 'superuser', 'jwk'] : ['groups', 'superuser']);

      const [id = ''] = positionalArgs(args, ['id']);
      const groups = listFlag(flags, 'groups');
      const jwk = jwkFlag(flags);
      const data = await client.request('POST', base, {
        id,
        ...(groups === undefined ? {} : { groups }),
        ...(flags.superuser === true ? { superuser: true } : {}),
        ...(jwk === undefined ? {} : { publicJwk: jwk }),
      });

      return {
        data,
        human: `created ${principalLine(field(data, kind))}\nsecret (shown once): ${str(field(data, 'secret'))}`,
      };
    }

    case 'show':
    case 'disable':
    case 'enable':
    case 'remove':
    case 'rotate-secret': {
      assertOnly(flags, []);

      const [id = ''] = positionalArgs(args, ['id']);
      const path = `${base}/${segment(id)}`;

      if (verb === 'show') {
        const data = await client.request('GET', path);

        return { data, human: principalLine(field(data, kind)) };
      }

      if (verb === 'remove') {
        return { data: await client.request('DELETE', path), human: `removed ${kind} ${id}` };
      }

      if (verb === 'rotate-secret') {
        const data = await client.request('POST', `${path}/rotate-secret`);

        return { data, human: `new secret for ${id} (shown once): ${str(field(data, 'secret'))}` };
      }

      const data = await client.request('POST', `${path}/${verb}`);

      return { data, human: principalLine(field(data, kind)) };
    }

    case 'key': {
      if (kind !== 'app') {
        break;
      }

      const [action, ...rest] = args;

      if (action === 'set') {
        assertOnly(flags, ['jwk']);

        const [id = ''] = positionalArgs(rest, ['id']);
        const jwk = jwkFlag(flags);

        if (jwk === undefined) {
          throw new UsageError('--jwk is required');
        }

        const data = await client.request('PUT', `${base}/${segment(id)}/key`, { publicJwk: jwk });

        return { data, human: `pinned key of ${principalLine(field(data, 'app'))}` };
      }

      if (action === 'clear') {
        assertOnly(flags, []);

        const [id = ''] = positionalArgs(rest, ['id']);
        const data = await client.request('DELETE', `${base}/${segment(id)}/key`);

        return { data, human: `cleared key of ${principalLine(field(data, 'app'))}` };
      }

      throw new UsageError('expected "apps key set <id> --jwk ..." or "apps key clear <id>"');
    }

    default:
      break;
  }

  throw new UsageError(`unknown command "${resource} ${verb}"`);
}

async function groupCommand(
  client: AdminClient,
  verb: string,
  args: string[],
  flags: Flags,
): Promise<CommandOutput> {
  assertOnly(flags, []);

  switch (verb) {
    case 'list': {
      positionalArgs(args, []);

      const data = await client.request('GET', '/v1/groups');

      return { data, human: groupLines(field(data, 'groups')) };
    }

    case 'add': {
      const [name = ''] = positionalArgs(args, ['name']);
      const data = await client.request('POST', '/v1/groups', { name });

      return { data, human: `created group ${groupLine(field(data, 'group'))}` };
    }

    case 'show': {
      const [name = ''] = positionalArgs(args, ['name']);
      const data = await client.request('GET', `/v1/groups/${segment(name)}`);

      return { data, human: groupLine(field(data, 'group')) };
    }

    case 'remove': {
      const [name = ''] = positionalArgs(args, ['name']);

      return {
        data: await client.request('DELETE', `/v1/groups/${segment(name)}`),
        human: `removed group ${name}`,
      };
    }

    case 'add-member':
    case 'remove-member': {
      const [name = '', id = ''] = positionalArgs(args, ['name', 'id']);
      const data = await client.request(
        verb === 'add-member' ? 'PUT' : 'DELETE',
        `/v1/groups/${segment(name)}/members/${segment(id)}`,
      );

      return { data, human: groupLine(field(data, 'group')) };
    }

    default:
      throw new UsageError(`unknown command "groups ${verb}"`);
  }
}

/**
 * Grants and rules are both flat records with a generated id: listed (a grant list may be
 * narrowed to one app), added from flags, removed by id. Only their flags and bodies differ.
 */
interface RecordCommandSpec {
  /** The resource word on the command line and in the path: `grants`, `rules`. */
  readonly resource: string;
  /** The record's singular: the response field and the word in messages. */
  readonly singular: string;
  readonly listFlags: readonly FlagName[];
  readonly listPath: (flags: Flags) => string;
  readonly addFlags: readonly FlagName[];
  readonly addBody: (flags: Flags) => Record<string, unknown>;
  readonly line: (value: unknown) => string;
  readonly lines: (value: unknown) => string;
}

const GRANT_COMMAND: RecordCommandSpec = {
  resource: 'grants',
  singular: 'grant',
  listFlags: ['app'],
  listPath: (flags) => {
    const app = stringFlag(flags, 'app');

    return app === undefined ? '/v1/grants' : `/v1/grants?appId=${encodeURIComponent(app)}`;
  },
  addFlags: ['app', 'agents', 'groups', 'actions'],
  addBody: (flags) => {
    const agents = listFlag(flags, 'agents');
    const groups = listFlag(flags, 'groups');
    const actions = listFlag(flags, 'actions');

    return {
      appId: requiredFlag(flags, 'app'),
      ...(agents === undefined ? {} : { agents }),
      ...(groups === undefined ? {} : { groups }),
      ...(actions === undefined ? {} : { actions }),
    };
  },
  line: grantLine,
  lines: grantLines,
};

const RULE_COMMAND: RecordCommandSpec = {
  resource: 'rules',
  singular: 'rule',
  listFlags: [],
  listPath: () => '/v1/rules',
  addFlags: ['subject', 'pattern', 'access', 'effect'],
  addBody: (flags) => {
    const access = listFlag(flags, 'access') ?? [];

    if (access.length === 0 || access.some((word) => !ACCESS_WORDS.has(word))) {
      throw new UsageError('--access must list read, write and/or subscribe');
    }

    const effect = stringFlag(flags, 'effect') ?? 'allow';

    if (effect !== 'allow' && effect !== 'deny') {
      throw new UsageError('--effect must be allow or deny');
    }

    return { subject: subjectFlag(flags), pattern: requiredFlag(flags, 'pattern'), access, effect };
  },
  line: ruleLine,
  lines: ruleLines,
};

async function recordCommand(
  spec: RecordCommandSpec,
  client: AdminClient,
  verb: string,
  args: string[],
  flags: Flags,
): Promise<CommandOutput> {
  const base = `/v1/${spec.resource}`;

  switch (verb) {
    case 'list': {
      assertOnly(flags, spec.listFlags);
      positionalArgs(args, []);

      const data = await client.request('GET', spec.listPath(flags));

      return { data, human: spec.lines(field(data, spec.resource)) };
    }

    case 'add': {
      assertOnly(flags, spec.addFlags);
      positionalArgs(args, []);

      const data = await client.request('POST', base, spec.addBody(flags));

      return { data, human: `created ${spec.singular} ${spec.line(field(data, spec.singular))}` };
    }

    case 'remove': {
      assertOnly(flags, []);

      const [id = ''] = positionalArgs(args, [`${spec.singular}-id`]);

      return {
        data: await client.request('DELETE', `${base}/${segment(id)}`),
        human: `removed ${spec.singular} ${id}`,
      };
    }

    default:
      throw new UsageError(`unknown command "${spec.resource} ${verb}"`);
  }
}

async function superuserCommand(
  client: AdminClient,
  verb: string,
  args: string[],
  flags: Flags,
): Promise<CommandOutput> {
  assertOnly(flags, []);

  if (verb === 'list') {
    positionalArgs(args, []);

    const data = await client.request('GET', '/v1/superusers');

    return { data, human: principalLines(field(data, 'superusers')) };
  }

  if (verb === 'add' || verb === 'remove') {
    const [id = ''] = positionalArgs(args, ['id']);
    const data = await client.request(
      verb === 'add' ? 'PUT' : 'DELETE',
      `/v1/superusers/${segment(id)}`,
    );

    return { data, human: principalLine(field(data, 'principal')) };
  }

  throw new UsageError(`unknown command "superusers ${verb}"`);
}

async function enrollTokenCommand(
  client: AdminClient,
  verb: string,
  args: string[],
  flags: Flags,
): Promise<CommandOutput> {
  switch (verb) {
    case 'list': {
      assertOnly(flags, []);
      positionalArgs(args, []);

      const data = await client.request('GET', '/v1/enroll-tokens');

      return { data, human: enrollTokenLines(field(data, 'enrollTokens')) };
    }

    case 'create': {
      assertOnly(flags, ['expires-in', 'uses', 'groups', 'agent']);
      positionalArgs(args, []);

      const expiresInSeconds = durationFlag(flags, 'expires-in');
      const uses = integerFlag(flags, 'uses');
      const groups = listFlag(flags, 'groups');
      const agentId = stringFlag(flags, 'agent');
      const data = await client.request('POST', '/v1/enroll-tokens', {
        ...(expiresInSeconds === undefined ? {} : { expiresInSeconds }),
        ...(uses === undefined ? {} : { uses }),
        ...(groups === undefined ? {} : { groups }),
        ...(agentId === undefined ? {} : { agentId }),
      });

      return {
        data,
        human: `created ${enrollTokenLine(field(data, 'enrollToken'))}\ntoken (shown once): ${str(field(data, 'token'))}`,
      };
    }

    case 'revoke': {
      assertOnly(flags, []);

      const [id = ''] = positionalArgs(args, ['id']);
      const data = await client.request('DELETE', `/v1/enroll-tokens/${segment(id)}`);

      return { data, human: enrollTokenLine(field(data, 'enrollToken')) };
    }

    default:
      throw new UsageError(`unknown command "enroll-tokens ${verb}"`);
  }
}

async function trustCommand(
  client: AdminClient,
  verb: string,
  args: string[],
  flags: Flags,
): Promise<CommandOutput> {
  assertOnly(flags, []);

  switch (verb) {
    case 'show': {
      positionalArgs(args, []);

      const data = await client.request('GET', '/v1/trust');

      return { data, human: trustLines(data) };
    }

    case 'rotate': {
      positionalArgs(args, []);

      const data = await client.request('POST', '/v1/trust/rotate');

      return {
        data,
        human: `active key: ${str(field(data, 'active'))}\nretiring: ${str(field(data, 'retiring'))}`,
      };
    }

    case 'retire': {
      const [kid = ''] = positionalArgs(args, ['kid']);

      return {
        data: await client.request('DELETE', `/v1/trust/keys/${segment(kid)}`),
        human: `removed trust key ${kid}`,
      };
    }

    default:
      throw new UsageError(`unknown command "trust ${verb}"`);
  }
}

/** Runs one admin-API command: `words` is the command line after the program name. */
export async function runAdminCommand(
  client: AdminClient,
  words: readonly string[],
  flags: Flags,
): Promise<CommandOutput> {
  const [resource = '', verb = '', ...args] = words;

  switch (resource) {
    case 'agents':
    case 'apps':
      return principalCommand(client, resource, verb, args, flags);
    case 'groups':
      return groupCommand(client, verb, args, flags);
    case 'grants':
      return recordCommand(GRANT_COMMAND, client, verb, args, flags);
    case 'rules':
      return recordCommand(RULE_COMMAND, client, verb, args, flags);
    case 'superusers':
      return superuserCommand(client, verb, args, flags);
    case 'enroll-tokens':
      return enrollTokenCommand(client, verb, args, flags);
    case 'trust':
      return trustCommand(client, verb, args, flags);
    case 'audit': {
      assertOnly(flags, ['limit', 'before']);
      positionalArgs(verb === '' ? [] : [verb, ...args], []);

      const query = new URLSearchParams();
      const limit = integerFlag(flags, 'limit');
      const before = integerFlag(flags, 'before');

      if (limit !== undefined) {
        query.set('limit', String(limit));
      }

      if (before !== undefined) {
        query.set('before', String(before));
      }

      const data = await client.request('GET', `/v1/audit?${query.toString()}`);

      return { data, human: auditLines(field(data, 'entries')) };
    }

    case 'explain': {
      assertOnly(flags, []);

      const [username = '', topic = '', access = ''] = positionalArgs(
        verb === '' ? args : [verb, ...args],
        ['username', 'topic', 'read|write|subscribe'],
      );

      if (!ACCESS_WORDS.has(access)) {
        throw new UsageError('access must be read, write or subscribe');
      }

      const query = new URLSearchParams({ username, topic, access });
      const data = await client.request('GET', `/v1/explain?${query.toString()}`);

      return { data, human: explainText(data) };
    }

    default:
      throw new UsageError(`unknown command "${words.join(' ')}"`);
  }
}

/** True when the command line names an admin-API command. */
export function isAdminCommand(word: string): boolean {
  return [
    'agents',
    'apps',
    'groups',
    'grants',
    'rules',
    'superusers',
    'enroll-tokens',
    'trust',
    'audit',
    'explain',
  ].includes(word);
}
