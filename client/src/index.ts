/**
 * @beckon/client: the central side of Beckon. Connect as an app, send signed commands to agents
 * behind NAT, await their results, fan out to groups, and watch who is online.
 */
export { connect } from './connect.js';
export { BeckonClient, DEFAULT_SEND_TIMEOUT_MS } from './client.js';
export type { CommandHandle, FanOutTarget, SendManyOptions, SendOptions } from './client.js';
export type { SucceededResult } from './pending-commands.js';
export type { Watch, WatchOptions } from './live-feed.js';
export type { ConnectOptions } from './connect-options.js';
export { DEFAULT_CONNECT_TIMEOUT_MS } from './connect-options.js';
export { DEFAULT_RECONNECT_SCHEDULE, type ReconnectSchedule } from './backoff.js';
export { BeckonError, ERROR_CODES, isBeckonError, type ErrorCode } from './errors.js';
export type { ActionOf, ArgsOf, Catalogue, UntypedCatalogue } from './catalogue-types.js';
export type { AgentOutcome, FanOutProgress, FanOutReport, MaxErrors } from './fan-out.js';
export type { AgentPresence } from './presence.js';
export { PrivateJwk } from './private-key.js';
