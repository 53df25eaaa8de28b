import type { z } from 'zod';
import { CommandId } from './ids.js';
import { safeParse, type ParseResult } from './issues.js';
import { MAX_MESSAGE_BYTES } from './limits.js';
import { Cancel, Command, Inbound, Message, Progress, Result, Status } from './messages.js';

const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Turns an MQTT payload into JSON without throwing: refuses oversized payloads before reading
 * them, invalid UTF-8 and invalid JSON, each with its own code.
 */
export function decodePayload(payload: Uint8Array | string): ParseResult<unknown> {
  const size = typeof payload === 'string' ? Buffer.byteLength(payload) : payload.byteLength;

  if (size > MAX_MESSAGE_BYTES) {
    return {
      ok: false,
      issues: [
        {
          code: 'too_large',
          path: '',
          message: `payload is ${size} bytes; the limit is ${MAX_MESSAGE_BYTES}`,
        },
      ],
    };
  }

  let text: string;

  try {
    text = typeof payload === 'string' ? payload : decoder.decode(payload);
  } catch {
    return { ok: false, issues: [{ code: 'not_json', path: '', message: 'is not valid UTF-8' }] };
  }

  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false, issues: [{ code: 'not_json', path: '', message: 'is not valid JSON' }] };
  }
}

function parseWith<S extends z.ZodType>(
  schema: S,
  payload: Uint8Array | string,
): ParseResult<z.output<S>> {
  const decoded = decodePayload(payload);

  return decoded.ok ? safeParse(schema, decoded.value) : decoded;
}

/** Any Beckon message, from raw payload bytes. */
export function parseMessage(payload: Uint8Array | string): ParseResult<Message> {
  return parseWith(Message, payload);
}

/** What may arrive on an agent's commands topic: a command or a cancel. */
export function parseInbound(payload: Uint8Array | string): ParseResult<Inbound> {
  return parseWith(Inbound, payload);
}

export function parseCommand(payload: Uint8Array | string): ParseResult<Command> {
  return parseWith(Command, payload);
}

export function parseCancel(payload: Uint8Array | string): ParseResult<Cancel> {
  return parseWith(Cancel, payload);
}

export function parseResult(payload: Uint8Array | string): ParseResult<Result> {
  return parseWith(Result, payload);
}

export function parseProgress(payload: Uint8Array | string): ParseResult<Progress> {
  return parseWith(Progress, payload);
}

export function parseStatus(payload: Uint8Array | string): ParseResult<Status> {
  return parseWith(Status, payload);
}

/**
 * The command id of a message that failed validation, when it has a well-formed one, so the
 * `rejected` result can still be correlated by its sender.
 */
export function salvageCommandId(value: unknown): string | null {
  if (value === null || typeof value !== 'object' || !('id' in value)) {
    return null;
  }

  const parsed = CommandId.safeParse(value.id);

  return parsed.success ? parsed.data : null;
}
