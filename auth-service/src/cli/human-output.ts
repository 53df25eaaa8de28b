// Human-readable renderings of admin API answers. Scripts use --json instead.

type Json = Record<string, unknown>;

export function field(value: unknown, key: string): unknown {
  return value !== null && typeof value === 'object' ? (value as Json)[key] : undefined;
}

export function str(value: unknown): string {
  if (typeof value === 'string') {
    return value;
  }

  if (typeof value === 'number' || typeof value === 'boolean') {
    return String(value);
  }

  return value === undefined || value === null ? '' : JSON.stringify(value);
}

function list(value: unknown): string {
  return Array.isArray(value) && value.length > 0 ? value.map(str).join(',') : '-';
}

function lines(items: unknown, render: (item: unknown) => string): string {
  return Array.isArray(items) && items.length > 0 ? items.map(render).join('\n') : '(none)';
}

export function principalLine(item: unknown): string {
  const flags = [
    field(item, 'enabled') === true ? 'enabled' : 'DISABLED',
    ...(field(item, 'superuser') === true ? ['superuser'] : []),
    ...(field(item, 'publicJwk') === undefined ? [] : ['key-pinned']),
  ];

  return `${str(field(item, 'id'))}  ${str(field(item, 'kind'))}  ${flags.join(' ')}  groups: ${list(field(item, 'groups'))}`;
}

export function principalLines(items: unknown): string {
  return lines(items, principalLine);
}

export function groupLine(item: unknown): string {
  return `${str(field(item, 'name'))}  members: ${list(field(item, 'members'))}`;
}

export function groupLines(items: unknown): string {
  return lines(items, groupLine);
}

export function grantLine(item: unknown): string {
  const actions = field(item, 'actions');

  return `${str(field(item, 'id'))}  app ${str(field(item, 'appId'))} -> agents: ${list(field(item, 'agents'))}  groups: ${list(field(item, 'groups'))}  actions: ${actions === undefined ? 'all' : list(actions)}`;
}

export function grantLines(items: unknown): string {
  return lines(items, grantLine);
}

function subjectText(subject: unknown): string {
  switch (field(subject, 'kind')) {
    case 'principal':
      return `principal:${str(field(subject, 'id'))}`;
    case 'group':
      return `group:${str(field(subject, 'name'))}`;
    default:
      return 'all';
  }
}

export function ruleLine(item: unknown): string {
  return `${str(field(item, 'id'))}  ${str(field(item, 'effect'))} ${list(field(item, 'access'))}  ${str(field(item, 'pattern'))}  for ${subjectText(field(item, 'subject'))}`;
}

export function ruleLines(items: unknown): string {
  return lines(items, ruleLine);
}

export function enrollTokenLine(item: unknown): string {
  const agent = field(item, 'agentId');

  return `${str(field(item, 'id'))}  ${str(field(item, 'state'))}  uses ${str(field(item, 'usesCount'))}/${str(field(item, 'usesAllowed'))}  expires ${str(field(item, 'expiresAt'))}  groups: ${list(field(item, 'groups'))}${agent === undefined ? '' : `  agent: ${str(agent)}`}`;
}

export function enrollTokenLines(items: unknown): string {
  return lines(items, enrollTokenLine);
}

export function trustLines(body: unknown): string {
  const keys = lines(
    field(body, 'keys'),
    (key) =>
      `${str(field(key, 'kid'))}  ${str(field(key, 'alg'))}  ${str(field(key, 'status'))}  created ${str(field(key, 'createdAt'))}`,
  );

  return `issuer: ${str(field(body, 'issuer'))}\n${keys}`;
}

export function auditLines(items: unknown): string {
  return lines(items, (entry) => {
    const detail = field(entry, 'detail');

    return `${str(field(entry, 'at'))}  #${str(field(entry, 'revision'))}  ${str(field(entry, 'actor'))}  ${str(field(entry, 'action'))}  ${str(field(entry, 'target'))}${detail === undefined ? '' : `  ${JSON.stringify(detail)}`}`;
  });
}

export function explainText(body: unknown): string {
  const rule = field(body, 'rule');

  return `${field(body, 'allowed') === true ? 'ALLOW' : 'DENY'}: ${str(field(body, 'reason'))}${rule === undefined ? '' : `\nrule: ${str(rule)}`}`;
}
