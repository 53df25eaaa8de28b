/** A mistake in how the command was called: exit code 2 and the usage text. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export const USAGE = `usage: beckon-auth <command> [options]

Service and store (read the config: --config FILE or BECKON_AUTH_CONFIG, BECKON_AUTH_* vars):
  serve                                  run the auth-service
  migrate                                apply pending store migrations
  admin-token create [--name NAME]       create an admin token (shown once)
  admin-token list | revoke <id>
  import --passwords FILE [--acl FILE] [--as agents|apps]
                                         import a Mosquitto password file and ACL file

Admin API (--url URL or BECKON_AUTH_ADMIN_URL, default http://127.0.0.1:8182;
token from BECKON_AUTH_ADMIN_TOKEN or --token-file FILE):
  agents add <id> [--groups a,b] [--superuser]
  agents list | show <id> | disable <id> | enable <id> | remove <id> | rotate-secret <id>
  apps add <id> [--groups a,b] [--superuser] [--jwk JSON|@FILE]
  apps list | show | disable | enable | remove | rotate-secret <id>
  apps key set <id> --jwk JSON|@FILE     pin the app's public key
  apps key clear <id>                    unpin it (the next credential request pins again)
  groups add <name> | list | show <name> | remove <name>
  groups add-member <name> <id> | remove-member <name> <id>
  grants add --app ID [--agents a,b] [--groups g,h] [--actions x,y]
  grants list [--app ID] | remove <grant-id>
  rules add --subject principal:ID|group:NAME|all --pattern FILTER --access read,write,subscribe
            [--effect allow|deny]
  rules list | remove <rule-id>
  superusers list | add <id> | remove <id>
  enroll-tokens create [--expires-in 1d] [--uses N] [--groups a,b] [--agent ID]
  enroll-tokens list | revoke <id>
  trust show | rotate | retire <kid>
  audit [--limit N] [--before REVISION]
  explain <username> <topic> <read|write|subscribe>

Options: --json (machine-readable output), -h/--help.
Exit codes: 0 ok, 1 failure, 2 usage error.`;
