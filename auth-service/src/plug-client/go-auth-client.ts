import { isUnreserved } from '../http/unreserved.js';
import { KeepAlivePool } from './keep-alive-pool.js';
import type { PlugAcc, PlugAnswer } from './plug-client.js';

// A client that asks an auth service as mosquitto-go-auth's `http` backend does, the plugin in
// Beckon's broker image (deploy/mosquitto/mosquitto.conf): a JSON (or form) body with the
// fields in Go's sorted map order, one http.Client for the plugin's life, so connections are
// kept alive and reused (Go keeps at most two idle ones per host), and an answer read from the
// status and, in the json and text response modes, the body. The benchmarks and the deploy
// tests use it to stand in for the real plugin, which cannot be fetched here (the test auth
// plugin in test/support/mosquitto-auth/ asks the same way from inside Mosquitto).

/** The `auth_opt_http_*` settings of the go-auth http backend, in its own terms. */
export interface GoAuthClientOptions {
  /** `http_host` */
  readonly host: string;
  /** `http_port` */
  readonly port: number;
  /** `http_getuser_uri`, `http_superuser_uri` (absent: no superuser check), `http_aclcheck_uri` */
  readonly uris: {
    readonly getuser: string;
    readonly superuser?: string;
    readonly aclcheck: string;
  };
  /** `http_params_mode`; the plugin's default is json. */
  readonly paramsMode?: 'json' | 'form';
  /** `http_response_mode`; the plugin's default is status. */
  readonly responseMode?: 'status' | 'json' | 'text';
  /** `http_method`; the plugin's default is POST (form mode only with POST or PUT). */
  readonly method?: 'POST' | 'GET' | 'PUT';
  /** `http_timeout` in seconds for a whole request; the plugin's default is 5. */
  readonly timeoutSeconds?: number;
  /** `http_user_agent` */
  readonly userAgent?: string;
  /** `disable_superuser`: no superuser request at all, the acl request alone decides. */
  readonly disableSuperuser?: boolean;
  /**
   * Connections kept open between requests: Go's default, 2, unless set. Mosquitto asks one
   * question at a time, so the plugin never has more than one connection; a broker that asks
   * concurrently (the embedded Aedes broker) needs as many as it has checks in flight to
   * reuse them the same way.
   */
  readonly idleConnections?: number;
}

/** Go's http.DefaultMaxIdleConnsPerHost: idle connections kept per host for reuse. */
const GO_IDLE_CONNECTIONS = 2;
const GO_AUTH_DEFAULT_TIMEOUT_S = 5;
const MILLIS_PER_SECOND = 1_000;
const DEFAULT_USER_AGENT = 'mosquitto';
/** Go's encoding/json escapes these in strings (HTML safety, JavaScript line terminators). */
const GO_ESCAPED = /[<>&\u2028\u2029]/g;
const HEX = '0123456789ABCDEF';
const JSON_TYPE = 'application/json';
const FORM_TYPE = 'application/x-www-form-urlencoded';

type Field = readonly [string, string | number];

export class GoAuthClient {
  readonly #options: GoAuthClientOptions;
  readonly #pool: KeepAlivePool;

  constructor(options: GoAuthClientOptions) {
    if ((options.paramsMode ?? 'json') === 'form' && options.method === 'GET') {
      throw new TypeError('go-auth sends form params only with POST or PUT, not GET');
    }

    // Each goes into the request head as it is: a line break would end a header early.
    for (const [name, value] of [['host', options.host], ...Object.entries(options.uris)]) {
      if (value !== undefined && /\s/.test(value)) {
        throw new TypeError(`${name} must not contain white space, got ${JSON.stringify(value)}`);
      }
    }

    if (
      options.idleConnections !== undefined &&
      !(Number.isInteger(options.idleConnections) && options.idleConnections >= 0)
    ) {
      throw new TypeError(
        `idleConnections must be a whole number >= 0, got ${String(options.idleConnections)}`,
      );
    }

    if (/[\r\n]/.test(options.userAgent ?? '')) {
      throw new TypeError('userAgent must not contain line breaks');
    }

    this.#options = options;
    this.#pool = new KeepAlivePool(
      options.host,
      options.port,
      options.idleConnections ?? GO_IDLE_CONNECTIONS,
    );
  }

  /** A CONNECT: the getuser request with the client's credentials and client id. */
  authenticate(username: string, password: string, clientId = ''): Promise<PlugAnswer> {
    return this.#ask(this.#options.uris.getuser, [
      ['clientid', clientId],
      ['password', password],
      ['username', username],
    ]);
  }

  /**
   * An ACL check as the plugin makes it: the superuser request when a superuser URI is set and
   * superusers are not disabled (a yes ends it), then the acl request. A no after a superuser
   * error is an error.
   */
  async checkAcl(
    username: string,
    topic: string,
    acc: PlugAcc,
    clientId = '',
  ): Promise<PlugAnswer> {
    const superuserUri =
      this.#options.disableSuperuser === true ? undefined : this.#options.uris.superuser;
    const superuser =
      superuserUri === undefined ? 'no' : await this.#ask(superuserUri, [['username', username]]);

    if (superuser === 'yes') {
      return 'yes';
    }

    const acl = await this.#ask(this.#options.uris.aclcheck, [
      ['acc', acc],
      ['clientid', clientId],
      ['topic', topic],
      ['username', username],
    ]);

    return acl === 'no' && superuser === 'error' ? 'error' : acl;
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#pool.close();
  }

  async #ask(path: string, fields: readonly Field[]): Promise<PlugAnswer> {
    const timeoutMs =
      (this.#options.timeoutSeconds ?? GO_AUTH_DEFAULT_TIMEOUT_S) * MILLIS_PER_SECOND;
    const answer = await this.#pool.request(this.#requestBytes(path, fields), timeoutMs);

    return answer === undefined ? 'error' : this.#answerOf(answer.status, answer.body);
  }

  /** The request as Go's net/http writes it: Host, User-Agent, Content-Length, then the rest. */
  #requestBytes(path: string, fields: readonly Field[]): Buffer {
    const form = this.#options.paramsMode === 'form';
    const body = Buffer.from(form ? goForm(fields) : goJson(fields), 'utf8');
    const head = [
      `${this.#options.method ?? 'POST'} ${path} HTTP/1.1`,
      `Host: ${this.#options.host}:${this.#options.port}`,
      `User-Agent: ${this.#options.userAgent ?? DEFAULT_USER_AGENT}`,
      `Content-Length: ${body.length}`,
      `Content-Type: ${form ? FORM_TYPE : JSON_TYPE}`,
      'Accept-Encoding: gzip',
    ];

    return Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
  }

  // 2xx then the response mode's body; any other status is a no, and 5xx an error.
  #answerOf(status: number, body: Buffer): PlugAnswer {
    if (status < 200 || status >= 300) {
      return status >= 500 ? 'error' : 'no';
    }

    switch (this.#options.responseMode ?? 'status') {
      case 'status':
        return 'yes';
      case 'text':
        return body.toString('utf8') === 'ok' ? 'yes' : 'no';
      case 'json':
        return jsonAnswer(body);
    }
  }
}

function jsonAnswer(body: Buffer): PlugAnswer {
  try {
    const parsed = JSON.parse(body.toString('utf8')) as unknown;

    return typeof parsed === 'object' && parsed !== null && 'ok' in parsed && parsed.ok === true
      ? 'yes'
      : 'no';
  } catch {
    // The plugin reports a body it cannot unmarshal as an error.
    return 'error';
  }
}

/** A JSON object as Go's json.Marshal writes a map: keys sorted (the callers pass them so). */
function goJson(fields: readonly Field[]): string {
  const members = fields.map(([name, value]) => `${JSON.stringify(name)}:${JSON.stringify(value)}`);

  return `{${members.join(',')}}`.replace(GO_ESCAPED, (char) => {
    return `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`;
  });
}

/** url.Values.Encode: keys sorted, values query-escaped (space as `+`). */
function goForm(fields: readonly Field[]): string {
  return fields.map(([name, value]) => `${name}=${queryEscape(String(value))}`).join('&');
}

function queryEscape(value: string): string {
  let escaped = '';

  for (const byte of Buffer.from(value, 'utf8')) {
    if (isUnreserved(byte)) {
      escaped += String.fromCharCode(byte);
    } else if (byte === 0x20) {
      escaped += '+';
    } else {
      escaped += `%${HEX[byte >> 4] ?? '0'}${HEX[byte & 0x0f] ?? '0'}`;
    }
  }

  return escaped;
}
