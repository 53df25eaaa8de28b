import type { CheckAccess } from '../decide/decision.js';
import type { BrokerEndpoint } from '../metrics/broker-metrics.js';
import { BadRequest } from './bad-request.js';
import {
  bearerOf,
  carriesBasicCredentials,
  hasMediaType,
  requireBrokerKey,
  type BrokerKeyCheck,
  type CheckHeaders,
  type CheckRequest,
} from './check-request.js';
import { decodePercent, parseForm, type FormSyntax } from './form-body.js';

// mosquitto-auth-plug's `http` and `jwt` backends (captured wire format:
// shared/contract/mosquitto-auth-plug/README.md). Both POST a form to the same three URIs; the
// jwt backend is told apart by its `Authorization: Bearer` header.

const FORM = 'application/x-www-form-urlencoded';
const PLUG_SYNTAX: FormSyntax = { plusIsSpace: false, rawTailField: 'clientid' };
const NOT_AN_ACL_CHECK = '-1';

const ACL_ACCESS: ReadonlyMap<string, CheckAccess> = new Map([
  ['1', 'read'],
  ['2', 'write'],
  ['4', 'subscribe'],
]);

/** Reads a plug request into a CheckRequest; throws BadRequest for anything the plug never sends. */
export function parsePlugRequest(
  endpoint: BrokerEndpoint,
  headers: CheckHeaders,
  body: Buffer,
  brokerKey: BrokerKeyCheck | undefined,
): CheckRequest {
  if (!hasMediaType(headers, FORM)) {
    throw new BadRequest(`Content-Type must be ${FORM}`);
  }

  const fields = parseForm(body, PLUG_SYNTAX);
  const bearer = bearerOf(headers);
  const topic = required(fields, 'topic');
  const access = accessFor(endpoint, required(fields, 'acc'), topic);
  required(fields, 'clientid');

  if (bearer !== undefined) {
    if (fields.has('username') || fields.has('password')) {
      throw new BadRequest('a jwt-backend request carries no username or password fields');
    }

    const token = decodePercent(bearer, 'bearer token');

    return { backend: 'plug-jwt', endpoint, username: '', password: '', token, topic, access };
  }

  const username = required(fields, 'username');
  const password = required(fields, 'password');

  if (endpoint !== 'auth' && password !== '') {
    throw new BadRequest('only the getuser request carries a password');
  }

  if (brokerKey === undefined) {
    // Without a broker key the plug sends the client's own credentials; they must agree with
    // the body, or this is not the plug talking.
    if (!carriesBasicCredentials(headers.authorization, username, password)) {
      throw new BadRequest('Authorization does not carry the credentials of the body');
    }
  } else {
    requireBrokerKey(brokerKey, headers);
  }

  return { backend: 'plug-http', endpoint, username, password, token: '', topic, access };
}

function required(fields: ReadonlyMap<string, string>, name: string): string {
  const value = fields.get(name);

  if (value === undefined) {
    throw new BadRequest(`form field "${name}" is missing`);
  }

  return value;
}

function accessFor(endpoint: BrokerEndpoint, acc: string, topic: string): CheckAccess | undefined {
  if (endpoint !== 'acl') {
    if (acc !== NOT_AN_ACL_CHECK || topic !== '') {
      throw new BadRequest('getuser and superuser requests carry acc=-1 and no topic');
    }

    return undefined;
  }

  const access = ACL_ACCESS.get(acc);

  if (access === undefined) {
    throw new BadRequest('acc must be 1 (read), 2 (write) or 4 (subscribe)');
  }

  if (topic === '') {
    throw new BadRequest('an ACL check needs a topic');
  }

  return access;
}
