import { z } from 'zod';
import type { CheckAccess } from '../decide/decision.js';
import type { BrokerEndpoint } from '../metrics/broker-metrics.js';
import { BadRequest } from './bad-request.js';
import {
  bearerOf,
  hasMediaType,
  requireBrokerKey,
  type BrokerKeyCheck,
  type CheckHeaders,
  type CheckRequest,
} from './check-request.js';
import { decodePercent, parseForm } from './form-body.js';

// mosquitto-go-auth's `http` backend and `jwt` backend in remote mode. Bodies are JSON
// (`*_params_mode json`, the default) or a Go url.Values form (`form`); the method is POST, GET
// or PUT. The http backend sends the MQTT username and password; the jwt backend sends
// `Authorization: Bearer <token>` and, with `jwt_parse_token`, the username it read from it.
// acc: 1 read, 2 write, 3 readwrite, 4 subscribe.

const JSON_TYPE = 'application/json';
const utf8 = new TextDecoder('utf-8', { fatal: true });
const FORM_TYPE = 'application/x-www-form-urlencoded';

const ACCESS: Readonly<Record<1 | 2 | 3 | 4, CheckAccess>> = {
  1: 'read',
  2: 'write',
  3: 'readwrite',
  4: 'subscribe',
};

const Acc = z.union([z.literal(1), z.literal(2), z.literal(3), z.literal(4)]);
const Text = z.string().max(65_535);

const HttpUser = z.strictObject({ username: Text, password: Text, clientid: Text });
const HttpSuperuser = z.strictObject({ username: Text });
const HttpAcl = z.strictObject({ username: Text, clientid: Text, topic: Text, acc: Acc });

// Without jwt_parse_token the user and superuser bodies are JSON `null` (an empty form).
const JwtUser = z.strictObject({ username: Text.optional() }).nullable();
const JwtAcl = z.strictObject({ username: Text.optional(), clientid: Text, topic: Text, acc: Acc });

interface Question {
  readonly username: string;
  readonly password: string;
  readonly topic: string;
  readonly access: CheckAccess | undefined;
}

/** Reads a go-auth request into a CheckRequest; throws BadRequest naming what is wrong. */
export function parseGoAuthRequest(
  endpoint: BrokerEndpoint,
  headers: CheckHeaders,
  body: Buffer,
  brokerKey: BrokerKeyCheck | undefined,
): CheckRequest {
  const bearer = bearerOf(headers);
  const fields = readFields(headers, body);

  if (bearer !== undefined) {
    const question = jwtQuestion(endpoint, fields);
    // go-auth sends the token raw; a JWT has nothing to decode, anything else is refused here.
    const token = decodePercent(bearer, 'bearer token');

    return { backend: 'go-auth-jwt', endpoint, ...question, username: '', token };
  }

  if (brokerKey !== undefined) {
    requireBrokerKey(brokerKey, headers);
  }

  return { backend: 'go-auth-http', endpoint, ...httpQuestion(endpoint, fields), token: '' };
}

function httpQuestion(endpoint: BrokerEndpoint, fields: unknown): Question {
  switch (endpoint) {
    case 'auth': {
      const { username, password } = parse(HttpUser, fields);

      return { username, password, topic: '', access: undefined };
    }
    case 'superuser': {
      const { username } = parse(HttpSuperuser, fields);

      return { username, password: '', topic: '', access: undefined };
    }
    case 'acl': {
      const { username, topic, acc } = parse(HttpAcl, fields);

      return { username, password: '', topic, access: ACCESS[acc] };
    }
  }
}

// A username sent along with the token (jwt_parse_token) is only what go-auth read from the
// token without checking it; the verified `sub` decides, so it is not used.
function jwtQuestion(endpoint: BrokerEndpoint, fields: unknown): Question {
  if (endpoint !== 'acl') {
    parse(JwtUser, fields);

    return { username: '', password: '', topic: '', access: undefined };
  }

  const { topic, acc } = parse(JwtAcl, fields);

  return { username: '', password: '', topic, access: ACCESS[acc] };
}

function parse<T>(schema: z.ZodType<T>, fields: unknown): T {
  const parsed = schema.safeParse(fields);

  if (!parsed.success) {
    throw new BadRequest(describe(parsed.error));
  }

  return parsed.data;
}

function readFields(headers: CheckHeaders, body: Buffer): unknown {
  if (hasMediaType(headers, JSON_TYPE)) {
    try {
      return JSON.parse(utf8.decode(body)) as unknown;
    } catch (error) {
      throw new BadRequest('the body is not UTF-8 JSON', { cause: error });
    }
  }

  if (hasMediaType(headers, FORM_TYPE)) {
    const fields = parseForm(body, { plusIsSpace: true });

    if (fields.size === 0) {
      return null;
    }

    const record: Record<string, unknown> = Object.fromEntries(fields);
    const acc = fields.get('acc');

    // Form mode sends acc as text; the schemas take the number JSON mode sends.
    if (acc !== undefined && /^[1-4]$/.test(acc)) {
      record.acc = Number(acc);
    }

    return record;
  }

  // go-auth's GET of a jwt getuser without token parsing may come with no body at all.
  if (body.length === 0 && headers['content-type'] === undefined) {
    return null;
  }

  throw new BadRequest(`Content-Type must be ${JSON_TYPE} or ${FORM_TYPE}`);
}

function describe(error: z.ZodError): string {
  const issue = error.issues[0];
  const field = issue?.path.join('.') ?? '';

  return field === '' ? 'the body has the wrong shape' : `body field "${field}": ${issue?.message}`;
}
