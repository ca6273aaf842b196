// The account screens' small rules, kept apart from React so that they are tested alone: how a
// code is split into the groups people read and type, whether the user typed back the last
// group of their recovery code, how long a link code has left, the dark modules of a QR code
// as one SVG path, and the certificate pin a relay address carries.

/** The groups of a code as the engine writes it ("ABCDE-FGHJK"), for large, spaced display. */
export function codeGroups(code: string): string[] {
  return code.split(/[\s-]+/).filter((g) => g !== '');
}

/** A code as typed, reduced to what compares: upper case, no spaces or dashes. */
export function squashCode(input: string): string {
  return input.toUpperCase().replace(/[\s-]/g, '');
}

/** Whether `typed` is the last group of `code` (case, spaces and dashes aside). */
export function isLastGroup(typed: string, code: string): boolean {
  const groups = codeGroups(code);
  const last = groups[groups.length - 1];
  return last !== undefined && squashCode(typed) === squashCode(last);
}

/**
 * A link code as the user typed it, if it has the right length (10 characters of the code's
 * alphabet, in any case, with or without the dash); the engine checks it for good.
 */
export function typedLinkCode(input: string): string | null {
  const s = squashCode(input);
  return /^[0-9A-Z]{10}$/.test(s) ? `${s.slice(0, 5)}-${s.slice(5)}` : null;
}

/** A recovery code as typed: 24 characters, grouped by four as the engine writes it. */
export function typedRecoveryCode(input: string): string | null {
  const s = squashCode(input);
  return /^[0-9A-Z]{24}$/.test(s) ? s.match(/.{4}/g)!.join('-') : null;
}

/** What is left of a code's life, as m:ss; 0:00 once it has expired. */
export function countdown(expiresAt: number, now: number): string {
  const left = Math.max(0, Math.ceil((expiresAt - now) / 1000));
  return `${Math.floor(left / 60)}:${String(left % 60).padStart(2, '0')}`;
}

/**
 * The dark modules of a QR matrix as one SVG path, a unit square per module ("M x y h1v1h-1z").
 * Only numbers go into it, never the encoded text.
 */
export function qrPath(matrix: readonly (readonly boolean[])[]): string {
  const parts: string[] = [];
  matrix.forEach((row, y) =>
    row.forEach((dark, x) => {
      if (dark) parts.push(`M${x} ${y}h1v1h-1z`);
    }),
  );
  return parts.join('');
}

/**
 * The SHA-256 certificate pin of a relay address (`wss://host:7000/#sha256=AB12…`), in groups
 * of four for reading; null when it carries none.
 */
export function relayPin(relayUrl: string): string | null {
  const url = URL.parse(relayUrl.trim());
  if (url === null) return null;
  const pin = new URLSearchParams(url.hash.replace(/^#/, '')).get('sha256');
  if (pin === null || pin === '') return null;
  return pin
    .replace(/:/g, '')
    .match(/.{1,4}/g)!
    .join(' ');
}
