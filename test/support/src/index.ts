/** Test helpers shared by every Beckon suite. Not shipped. */
export { freePort } from './free-port.js';
export {
  canConnect,
  startMosquitto,
  type MosquittoOptions,
  type RunningMosquitto,
} from './mosquitto.js';
export { JsonLogChild, type ChildExit, type LogLine } from './json-log-child.js';
