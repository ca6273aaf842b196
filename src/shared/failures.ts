// Why a file failed, as a code the UI can say in its own language. The core keeps the English
// sentence (the CLI prints it, and profiles written before codes existed hold it), and every
// such sentence comes from this one table; `fileFailure` reads the code and its values back
// out, so a view carries `{ code, vars }` and a sentence from an older version is still read.

/** Each failure's code and its English sentence; {name} parts are its values. */
export const FILE_FAILURES = {
  /** The recipient cancelled our file. */
  peerCancelled: '{peer} cancelled the file',
  /** The recipient's app refused our file (too large for it, no room, or damaged). */
  peerRefused: "{peer}'s app could not keep the file (too large, no room, or damaged on the way)",
  /** Segments kept failing to reach even the relay. */
  relayUnreachable: 'the relay did not take it: it is unreachable or overloaded',
  /** The relay refused the message outright: its own words and its error code. */
  relayRefusedAs: 'the relay refused it: {detail} [{relayCode}]',
  /** The same, as written before the code was kept. */
  relayRefused: 'the relay refused it: {detail}',
  notSent: 'it could not be sent',
  /** Our file changed, shrank or went away while it was being sent. */
  sourceChanged: '{path} changed while it was being sent',
  sourceShorter: '{path} is shorter than when it was sent',
  sourceGone: '{path} is gone: it was moved or deleted while it was being sent',
  sourceUnreadable: 'cannot read {path}: {detail}',
  sourceNotFile: '{path} is not a regular file',
  /** An incoming file's bytes did not hash to what the sender announced. */
  damaged: 'the file arrived damaged: its SHA-256 does not match what was sent',
  notSaved: 'could not save the file: {detail}',
  notVerified: 'could not verify the file: {detail}',
  noRoom:
    'refused: not enough free space in {dir}: need {need}, have {have} ({size} for the file and {reserve} kept free)',
  /** No room for it beside what the files already arriving still need (admission.ts). */
  noRoomInFlight:
    'refused: not enough free space in {dir}: need {need}, have {have} ({size} for the file, {inFlight} still to come for the files already arriving and {reserve} kept free)',
  /** The user blocked its sender while it was on its way. */
  blocked: 'refused: you blocked {peer}',
  /** Nothing more of it arrived for so long that its partial file was deleted. */
  expired: 'expired: nothing more of it arrived for {days} days',
  tooLarge: 'the file is larger than the {limit}-byte limit',
  unknownHeader: 'the sender described the file in a way this version does not understand',
  badHeader: 'the file header does not match its segments',
} as const;

export type FileFailureCode = keyof typeof FILE_FAILURES;

/** What the core passes on as the reason of a relay's refusal (see relayRefusedAs). */
export function relayRefusalReason(code: string, text: string): string {
  return `${text} [${code}]`;
}

/** A failure as the UI gets it; `other` is a sentence this table does not know (its text). */
export type FileFailure =
  | { code: FileFailureCode; vars: Record<string, string> }
  | { code: 'other'; vars: { text: string } };

/** The English sentence of a failure, for the database, logs and the CLI. */
export function fileFailureText(code: FileFailureCode, vars: Record<string, string> = {}): string {
  return FILE_FAILURES[code].replace(/\{(\w+)\}/g, (whole, name: string) => vars[name] ?? whole);
}

const escape = (s: string): string => s.replace(/[.*+?^$()[\]\\|]/g, '\\$&');

/** Each template as a pattern: its values non-greedy, the last one to the end. */
const PATTERNS = (Object.entries(FILE_FAILURES) as [FileFailureCode, string][]).map(
  ([code, template]) => {
    const names: string[] = [];
    const parts = template.split(/\{(\w+)\}/);
    let source = '';
    for (const [i, part] of parts.entries()) {
      if (i % 2 === 0) source += escape(part);
      else {
        names.push(part);
        source += i === parts.length - 2 && parts[i + 1] === '' ? '(.*)' : '(.+?)';
      }
    }
    return { code, names, pattern: new RegExp(`^${source}$`, 's') };
  },
);

/** The code and values of a stored failure sentence. */
export function fileFailure(text: string): FileFailure {
  for (const { code, names, pattern } of PATTERNS) {
    const m = pattern.exec(text);
    if (m === null) continue;
    return { code, vars: Object.fromEntries(names.map((n, i) => [n, m[i + 1]!])) };
  }
  return { code: 'other', vars: { text } };
}
