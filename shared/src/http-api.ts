import { z } from 'zod';
import { AgentId, AppId, GroupName, Timestamp } from './ids.js';
import { MAX_TOKEN_LENGTH } from './limits.js';
import { Grant, PublicJwk, TrustRoot } from './signing.js';

// Bodies of the auth-service HTTP calls that other parts make (agents enrolling, apps renewing
// their credentials). Kept here so producer and consumers can never disagree.

const Secret = z.string().min(1).max(1_024);

/** Agent -> auth-service public listener, `POST /v1/enroll`: trade a one-time token. */
export const EnrollRequest = z.strictObject({
  token: z.string().min(16).max(256),
  /** The id the installer asks for; the token may fix it instead. */
  agentId: AgentId.optional(),
  hostname: z.string().max(255).optional(),
});

/** Auth-service -> agent: everything the agent needs to connect and to verify commands. */
export const EnrollResponse = z.strictObject({
  agentId: AgentId,
  /** MQTT username; equals agentId. */
  username: AgentId,
  /** MQTT password, shown this once; the service keeps only a hash. */
  password: Secret,
  groups: z.array(GroupName).max(256),
  trustRoot: TrustRoot,
  /** The broker the agent should dial, when the service knows it. */
  brokerUrl: z.string().max(1_024).optional(),
});

/**
 * Auth-service -> agent, `GET /v1/agent/trust` with the agent's MQTT credentials as Basic
 * auth: the current trust root (rotations) and the agent's groups (grants by group).
 */
export const AgentTrustResponse = z.strictObject({
  agentId: AgentId,
  groups: z.array(GroupName).max(256),
  trustRoot: TrustRoot,
});

/** App -> auth-service admin listener, `POST /v1/credentials` with the app's id and secret. */
export const CredentialHttpRequest = z.strictObject({
  publicJwk: PublicJwk,
});

/** Auth-service -> app: the signed credential, and what it certifies. */
export const CredentialHttpResponse = z.strictObject({
  credential: z.string().min(1).max(MAX_TOKEN_LENGTH),
  expiresAt: Timestamp,
  appId: AppId,
  grants: z.array(Grant),
  trustRoot: TrustRoot,
});

/** App -> auth-service, `POST /v1/broker-token`: a JWT to log in to the broker's jwt backend. */
export const BrokerTokenResponse = z.strictObject({
  token: z.string().min(1).max(MAX_TOKEN_LENGTH),
  expiresAt: Timestamp,
});

/**
 * Auth-service -> app, `GET /v1/app/agents[?group=<name>]` with the app's id and secret: the
 * agents the app is granted now (by id or group), so fan-outs to a group need no admin rights.
 */
export const AppAgentsResponse = z.strictObject({
  agents: z.array(AgentId),
});

/** Every 4xx/5xx body from the auth-service's admin and public listeners. */
export const ApiErrorBody = z.strictObject({
  error: z.strictObject({
    code: z.string().max(64),
    message: z.string().max(2_048),
  }),
});

export type EnrollRequest = z.infer<typeof EnrollRequest>;
export type EnrollResponse = z.infer<typeof EnrollResponse>;
export type AgentTrustResponse = z.infer<typeof AgentTrustResponse>;
export type CredentialHttpRequest = z.infer<typeof CredentialHttpRequest>;
export type CredentialHttpResponse = z.infer<typeof CredentialHttpResponse>;
export type BrokerTokenResponse = z.infer<typeof BrokerTokenResponse>;
export type AppAgentsResponse = z.infer<typeof AppAgentsResponse>;
export type ApiErrorBody = z.infer<typeof ApiErrorBody>;
