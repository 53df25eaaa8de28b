/**
 * @beckon/shared: the wire contract between central apps, the auth-service and agents.
 * Everything that crosses MQTT is defined here once, as zod schemas with inferred types.
 */
export * from './catalogue.js';
export * from './http-api.js';
export * from './ids.js';
export * from './issues.js';
export * from './json-schema.js';
export * from './limits.js';
export * from './messages.js';
export * from './parse.js';
export * from './signing.js';
export * from './topics.js';
export * from './write-batch.js';
