// Cutting text at a UTF-16 length must not split a surrogate pair, or the cut-off half turns
// into U+FFFD (or invalid JSON in stricter parsers) on the other side.

function isHighSurrogate(code: number): boolean {
  return code >= 0xd800 && code <= 0xdbff;
}

/** The largest index at most `max` where `text` can be cut without splitting a character. */
export function safeCutIndex(text: string, max: number): number {
  if (text.length <= max) {
    return text.length;
  }

  return max > 0 && isHighSurrogate(text.charCodeAt(max - 1)) ? max - 1 : max;
}

/** `text` in pieces of at most `max` UTF-16 code units, never splitting a surrogate pair. */
export function splitText(text: string, max: number): string[] {
  const pieces: string[] = [];
  let rest = text;

  while (rest.length > 0) {
    const cut = Math.max(safeCutIndex(rest, max), 1);
    pieces.push(rest.slice(0, cut));
    rest = rest.slice(cut);
  }

  return pieces;
}
