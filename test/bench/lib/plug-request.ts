import { percentEncode } from '@beckon/auth-service';

// The ACL request exactly as mosquitto-auth-plug writes it (header order, percent-encoding, the
// raw clientid), built once per distinct check and sent as bytes by the load generator.
// `assertMatchesCapture` pins the builder to two requests captured from the real plug.

const ACL_CLIENT_ID = 'client id not available';

export type PlugAcc = 1 | 2 | 4;

export interface PlugAclCheck {
  readonly backend: 'http' | 'jwt';
  /** libcurl's Host header: `ip:port` (the port left out only when it is 80). */
  readonly host: string;
  /** The MQTT username; for the jwt backend, the token. */
  readonly username: string;
  readonly topic: string;
  readonly acc: PlugAcc;
}

/** The bytes of one `/acl` request. */
export function plugAclRequest(check: PlugAclCheck): Buffer {
  const topicAcc = `topic=${percentEncode(check.topic)}&acc=${check.acc}&clientid=${ACL_CLIENT_ID}`;
  const lines = ['POST /acl HTTP/1.1', `Host: ${check.host}`];
  let body: string;

  if (check.backend === 'http') {
    const credentials = Buffer.from(`${check.username}:`, 'utf8').toString('base64');
    lines.push(`Authorization: Basic ${credentials}`, 'Accept: */*');
    body = `username=${percentEncode(check.username)}&password=&${topicAcc}`;
  } else {
    lines.push('Accept: */*', `Authorization: Bearer ${percentEncode(check.username)}`);
    body = topicAcc;
  }

  const bodyBytes = Buffer.from(body, 'utf8');
  lines.push(
    `Content-Length: ${bodyBytes.length}`,
    'Content-Type: application/x-www-form-urlencoded',
  );

  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'utf8'), bodyBytes]);
}

// Request 3 of http-requests.jsonl and of jwt-requests.jsonl (contract/mosquitto-auth-plug):
// alice subscribing to sensors/+/temp.
const CAPTURED_HTTP =
  'POST /acl HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nAuthorization: Basic YWxpY2U6\r\n' +
  'Accept: */*\r\nContent-Length: 90\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n' +
  'username=alice&password=&topic=sensors%2F%2B%2Ftemp&acc=4&clientid=client id not available';
const CAPTURED_JWT_TOKEN = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl';
const CAPTURED_JWT =
  `POST /acl HTTP/1.1\r\nHost: 127.0.0.1:18080\r\nAccept: */*\r\n` +
  `Authorization: Bearer ${CAPTURED_JWT_TOKEN}\r\nContent-Length: 65\r\n` +
  'Content-Type: application/x-www-form-urlencoded\r\n\r\n' +
  'topic=sensors%2F%2B%2Ftemp&acc=4&clientid=client id not available';

/** Throws when the builder no longer writes what the real plug wrote. */
export function assertMatchesCapture(): void {
  const common = { host: '127.0.0.1:18080', topic: 'sensors/+/temp', acc: 4 } as const;
  const http = plugAclRequest({ ...common, backend: 'http', username: 'alice' });
  const jwt = plugAclRequest({ ...common, backend: 'jwt', username: CAPTURED_JWT_TOKEN });

  if (http.toString('utf8') !== CAPTURED_HTTP || jwt.toString('utf8') !== CAPTURED_JWT) {
    throw new Error('the benchmark plug request differs from the captured plug request');
  }
}
