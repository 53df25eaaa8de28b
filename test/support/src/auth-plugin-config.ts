// The mosquitto.conf lines that load the test auth plugin (auth-plugin.ts builds it) and
// point it at an auth-service's broker-check listener.

/** How the plugin asks: mosquitto-auth-plug's http backend, or mosquitto-go-auth's. */
export type AuthPluginMode = 'plug' | 'go-auth';

export interface AuthPluginConfig {
  /** The shared object `buildAuthPlugin` returned. */
  readonly pluginPath: string;
  readonly mode: AuthPluginMode;
  /** The broker-check listener's port on 127.0.0.1. */
  readonly port: number;
  /** Defaults to the auth-service's default URIs for the mode. */
  readonly uris?: { readonly getuser: string; readonly superuser: string; readonly acl: string };
  /**
   * No superuser request before each ACL check. Defaults to what each deployment does: the
   * plug asks (it cannot be told not to), Beckon's go-auth config does not.
   */
  readonly disableSuperuser?: boolean;
  /** Further `plugin_opt_<name> <value>` settings, e.g. `http_basic_auth_key`. */
  readonly options?: Readonly<Record<string, string | number>>;
}

const DEFAULT_URIS = {
  plug: { getuser: '/auth', superuser: '/superuser', acl: '/acl' },
  'go-auth': { getuser: '/go-auth/user', superuser: '/go-auth/superuser', acl: '/go-auth/acl' },
} as const;

/** `extraConfig` lines for startMosquitto (which must also get `allowAnonymous: false`). */
export function authPluginConfig(config: AuthPluginConfig): string[] {
  const uris = config.uris ?? DEFAULT_URIS[config.mode];
  const options: Record<string, string | number> = {
    mode: config.mode,
    http_host: '127.0.0.1',
    http_port: config.port,
    http_getuser_uri: uris.getuser,
    http_superuser_uri: uris.superuser,
    http_aclcheck_uri: uris.acl,
    disable_superuser: String(config.disableSuperuser ?? config.mode === 'go-auth'),
    ...config.options,
  };

  return [
    `plugin ${config.pluginPath}`,
    ...Object.entries(options).map(([name, value]) => `plugin_opt_${name} ${String(value)}`),
  ];
}
