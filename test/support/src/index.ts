/** Test helpers shared by every Beckon suite. Not shipped. */
export { buildAuthPlugin, type BuildAuthPluginOptions } from './auth-plugin.js';
export {
  authPluginConfig,
  type AuthPluginConfig,
  type AuthPluginMode,
} from './auth-plugin-config.js';
export { freePort } from './free-port.js';
export {
  canConnect,
  startMosquitto,
  type MosquittoOptions,
  type RunningMosquitto,
} from './mosquitto.js';
export { JsonLogChild, type ChildExit, type LogLine } from './json-log-child.js';
