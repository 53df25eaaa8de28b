// Bounds on everything that crosses the wire. Each one caps what a hostile or broken peer can
// make the other side allocate, log or store; raise them here, never at a call site.

/** Agent, app and group ids double as MQTT usernames and topic levels. */
export const MAX_ID_LENGTH = 128;

export const MAX_COMMAND_ID_LENGTH = 64;
export const MAX_ACTION_NAME_LENGTH = 64;
export const MAX_ARG_NAME_LENGTH = 64;
export const MAX_ARGS = 32;
export const MAX_ARG_STRING_LENGTH = 4_096;
export const MAX_DESCRIPTION_LENGTH = 1_024;
export const MAX_CORRELATION_DATA_LENGTH = 256;
export const MAX_ERROR_MESSAGE_LENGTH = 2_048;

/** A JWT or JWS carried inside a message; a certified credential is well under 8 KiB. */
export const MAX_TOKEN_LENGTH = 16_384;

/** Per stream (stdout, stderr) in a result, in UTF-16 code units after the agent truncated it. */
export const MAX_OUTPUT_LENGTH = 65_536;

/** One progress chunk. */
export const MAX_PROGRESS_CHUNK_LENGTH = 16_384;

export const MAX_CATALOGUE_ACTIONS = 256;
export const MAX_PATTERN_LENGTH = 512;
export const MAX_ENUM_VALUES = 256;

/**
 * Largest MQTT payload any Beckon message may have. A result with both streams full is about
 * 2 x 64 KiB of characters plus JSON escaping; anything larger is refused before JSON.parse.
 */
export const MAX_MESSAGE_BYTES = 512 * 1_024;

/** Topic strings are bounded well below MQTT's 64 KiB limit. */
export const MAX_TOPIC_LENGTH = 1_024;
