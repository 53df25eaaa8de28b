import { EXIT } from './exit-codes.js';

export const HELP = `beckon: send allow-listed actions to Beckon agents and see what happened

Usage:
  beckon send <agent> <action> [--arg name=value ...] [--timeout 30s] [--progress] [--json]
  beckon send --group <group> <action> [--arg name=value ...] [--concurrency 10]
              [--max-errors 5|10%] [--timeout 30s] [--json]
  beckon agents [--json]        who has published a status, and what they offer
  beckon watch [--json]         presence and results as they happen, until Ctrl-C
  beckon keygen [--out FILE] [--alg EdDSA|ES256] [--force]
                                write a new private JWK (mode 0600), print the public JWK
  beckon --help | --version

Argument values are typed by the agent's catalogue (from its retained status): integers,
true/false, strings. --json prints one JSON document (watch: one per line) on stdout.

Configuration (flags win over the environment):
  --url              BECKON_URL              broker, mqtt:// or mqtts://
  --app-id           BECKON_APP_ID           the app's id (MQTT username)
  --secret-file      BECKON_APP_SECRET_FILE  file holding the app's secret (or BECKON_APP_SECRET)
  --key-file         BECKON_APP_KEY_FILE     the app's private JWK (keygen's default --out)
  --auth-url         BECKON_AUTH_URL         auth-service admin listener (credentials, groups)
  --ca-file          BECKON_CA_FILE          CA certificate for mqtts:// and https://
  --mqtt-version     BECKON_MQTT_VERSION     5 (default) or 3.1.1
  --connect-timeout  BECKON_CONNECT_TIMEOUT  how long to try for a broker session (30s)
  --unsigned         BECKON_UNSIGNED=true    unsigned commands (agents with checks off only)
                     BECKON_LOG_LEVEL        the CLI's own log on stderr (default warn)

Exit status:
  ${EXIT.succeeded}    succeeded (fan-out: every agent succeeded)
  ${EXIT.failed}    the action failed (fan-out: some agent did not succeed)
  ${EXIT.usage}    usage: bad flags, environment or arguments; nothing was sent
  ${EXIT.rejected}    the agent rejected the command
  ${EXIT.timedOut}    timed out, or the command expired before it ran
  ${EXIT.connection}    connection: broker or auth-service unreachable, or credentials refused
  ${EXIT.interrupted}  interrupted by Ctrl-C
`;
