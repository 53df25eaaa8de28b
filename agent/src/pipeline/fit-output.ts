import { MAX_MESSAGE_BYTES, type Output } from '@beckon/shared';
import { safeCutIndex } from '../actions/bounded-text.js';

/**
 * Room kept for everything in a result besides the two streams: ids, timings, an error
 * message of 2,048 characters and correlation data of 256, each escaped at worst to six bytes
 * a character in JSON.
 */
const ENVELOPE_RESERVE_BYTES = 16 * 1_024;

/** Bytes the two streams together may take in a result's JSON. */
export const OUTPUT_BUDGET_BYTES = MAX_MESSAGE_BYTES - ENVELOPE_RESERVE_BYTES;

function jsonBytes(text: string): number {
  return Buffer.byteLength(JSON.stringify(text));
}

// The longest prefix whose JSON fits in `budget` bytes, never splitting a character.
function cutToBytes(text: string, budget: number): string {
  let low = 0;
  let high = text.length;

  while (low < high) {
    const middle = Math.ceil((low + high) / 2);

    if (jsonBytes(text.slice(0, safeCutIndex(text, middle))) <= budget) {
      low = middle;
    } else {
      high = middle - 1;
    }
  }

  return text.slice(0, safeCutIndex(text, low));
}

/**
 * Output whose JSON fits in a result under the message limit. The character limit per stream
 * is not enough on its own: a control character (a NUL, an escape) becomes six bytes in JSON,
 * so two full streams of them would make a result no receiver accepts, and the sender would
 * wait for an answer that never comes. Each stream gets half the budget plus whatever the
 * other leaves unused; anything cut sets `truncated`.
 */
export function fitOutput(output: Output, budget = OUTPUT_BUDGET_BYTES): Output {
  const stdoutBytes = jsonBytes(output.stdout);
  const stderrBytes = jsonBytes(output.stderr);

  if (stdoutBytes + stderrBytes <= budget) {
    return output;
  }

  const half = Math.floor(budget / 2);
  const stdoutBudget = stderrBytes < half ? budget - stderrBytes : half;
  const stdout = cutToBytes(output.stdout, Math.min(stdoutBytes, stdoutBudget));
  const stderr = cutToBytes(output.stderr, budget - jsonBytes(stdout));

  return { stdout, stderr, truncated: true };
}
