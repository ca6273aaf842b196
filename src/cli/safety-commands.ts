// The CLI's safety-number commands (safety-number, verify, unverify, accept-identity) and the
// identity-change notices that history and listen print among the messages.
import type { MessageView, NoticeView, SafetyNumberView } from '../shared/api.ts';
import { isValidUserName } from '../shared/protocol/index.ts';
import { groupDigits } from '../core/safety.ts';
import type { Messenger } from '../core/messenger.ts';
import { EXIT } from './exit-codes.ts';
import { messageJson, messageLine } from './format.ts';

type Out = NodeJS.WritableStream;

export const SAFETY_COMMANDS = ['safety-number', 'verify', 'unverify', 'accept-identity'] as const;
export type SafetyCommand = (typeof SAFETY_COMMANDS)[number];

export function isSafetyCommand(command: string): command is SafetyCommand {
  return (SAFETY_COMMANDS as readonly string[]).includes(command);
}

/** A user name argument: null when it is one, else what to tell the user. */
export function badUserName(user: string): string | null {
  return isValidUserName(user) ? null : `"${user}" is not a valid user name`;
}

/** One line of `safety-number --json` (the format the README documents). */
export function safetyJson(v: SafetyNumberView): string {
  return JSON.stringify({
    user: v.user,
    number: v.number,
    verified: v.verified,
    changed: v.changed,
  });
}

/** Where the contact stands, in words, and what to do next. */
function standing(v: SafetyNumberView): string {
  if (v.changed) {
    return (
      `${v.user}'s safety number CHANGED since you verified it: sending to ${v.user} is ` +
      `blocked until you check it and run: strata accept-identity ${v.user}`
    );
  }
  if (v.verified) return `${v.user} is verified`;
  return (
    `${v.user} is not verified: compare this number with ${v.user}'s (in person or on a ` +
    `call), then run: strata verify ${v.user}`
  );
}

/** Runs one of SAFETY_COMMANDS; the engine's errors are the caller's (account.guarded). */
export async function safetyCommand(
  m: Messenger,
  command: SafetyCommand,
  user: string,
  json: boolean,
  out: Out,
): Promise<number> {
  switch (command) {
    case 'safety-number': {
      const v = await m.safetyNumber(user);
      out.write(
        json ? `${safetyJson(v)}\n` : `${groupDigits(v.number).join(' ')}\n${standing(v)}\n`,
      );
      return EXIT.ok;
    }
    case 'verify': {
      const v = await m.verify(user);
      out.write(`marked ${user} as verified (safety number ${groupDigits(v.number).join(' ')})\n`);
      return EXIT.ok;
    }
    case 'unverify':
      m.unverify(user);
      out.write(`${user} is no longer marked as verified\n`);
      return EXIT.ok;
    case 'accept-identity': {
      const before = await m.safetyNumber(user);
      m.acceptIdentity(user);
      out.write(
        before.changed
          ? `accepted ${user}'s new safety number; sending to ${user} goes on. ${user} is no ` +
              `longer marked as verified: check the number, then strata verify ${user}\n`
          : `${user}'s safety number has not changed since you verified it: nothing to accept\n`,
      );
      return EXIT.ok;
    }
  }
}

/** A contact's account identity changed: one line of `listen --json` and `history --json`. */
export function noticeJson(n: { peer: string; at: number; fingerprint: string | null }): string {
  return JSON.stringify({
    type: 'notice',
    kind: 'identity-changed',
    user: n.peer,
    at: n.at,
    fingerprint: n.fingerprint,
  });
}

export function noticeLine(n: { peer: string; at: number; fingerprint: string | null }): string {
  const when = new Date(n.at).toISOString().replace('T', ' ').slice(0, 19);
  return (
    `${when} notice: ${n.peer}'s account identity changed (recovered, or a new account of ` +
    `that name): check the safety number with strata safety-number ${n.peer}` +
    (n.fingerprint ? `; its fingerprint is now ${n.fingerprint}` : '')
  );
}

/** How many of the latest messages `history` prints. */
const HISTORY_LIMIT = 1000;

/** `history USER`: the messages and the conversation's notices, in time order. */
export function printHistory(m: Messenger, peer: string, json: boolean, out: Out): void {
  const messages: MessageView[] = m.history(peer, { limit: HISTORY_LIMIT });
  // Notices older than the oldest message printed belong to the part left out.
  const from = messages.length === HISTORY_LIMIT ? messages[0]!.sentAt : -Infinity;
  const notices: NoticeView[] = m.notices(peer).filter((x) => x.at >= from);
  let n = 0;
  const printNotice = (notice: NoticeView) =>
    out.write((json ? noticeJson(notice) : noticeLine(notice)) + '\n');
  for (const v of messages) {
    while (n < notices.length && notices[n]!.at <= v.sentAt) printNotice(notices[n++]!);
    out.write((json ? messageJson(v) : messageLine(v)) + '\n');
  }
  while (n < notices.length) printNotice(notices[n++]!);
}
