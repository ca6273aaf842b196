// Safety numbers and verified contacts (docs/security.md, "Safety numbers"). A conversation's
// safety number is libsignal's fingerprint over both accounts' identity keys and names: both
// sides compute the same 60 digits, and comparing them (in person, on a call) shows that no
// one, the relay included, stands between the two. A contact the user marked verified whose
// identity key then changes (a recovery, or someone new under the name) blocks sending until
// the user accepts the new number, as in Signal; an unverified contact's change only leaves
// its notice in the conversation (account.ts).
import { Fingerprint, PublicKey } from '@signalapp/libsignal-client';
import type { SafetyNumberView } from '../shared/api.ts';
import { fromBase64 } from '../shared/protocol/account.ts';
import { isValidUserName } from '../shared/protocol/index.ts';
import type { AccountBook } from './account.ts';
import { IdentityChangedError, MessengerError } from './errors.ts';
import type { Profile } from './profile.ts';
import { statementCache, type Db } from './store/database.ts';

/** The contract's fingerprint parameters (Signal's own for version 2 of the display). */
export const FINGERPRINT_ITERATIONS = 5200;
export const FINGERPRINT_VERSION = 2;

const utf8 = (s: string) => new TextEncoder().encode(s) as Uint8Array<ArrayBuffer>;

/** The 60-digit safety number of `localUser` (key `localKey`) and `remoteUser`; symmetric. */
export function safetyNumber(
  localUser: string,
  localKey: Uint8Array,
  remoteUser: string,
  remoteKey: Uint8Array,
): string {
  return Fingerprint.new(
    FINGERPRINT_ITERATIONS,
    FINGERPRINT_VERSION,
    utf8(localUser),
    PublicKey.deserialize(localKey as Uint8Array<ArrayBuffer>),
    utf8(remoteUser),
    PublicKey.deserialize(remoteKey as Uint8Array<ArrayBuffer>),
  )
    .displayableFingerprint()
    .toString();
}

/** `12345 67890 ...`: a safety number in its 12 groups of 5 digits. */
export function groupDigits(number: string): string[] {
  return number.match(/\d{1,5}/g) ?? [];
}

export class SafetyBook {
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly user: string;
  private readonly identity: Uint8Array;
  private readonly accounts: AccountBook;
  private readonly online: () => boolean;

  constructor(db: Db, profile: Profile, accounts: AccountBook, online: () => boolean) {
    this.sql = statementCache(db);
    this.user = profile.user;
    this.identity = profile.keys.identity.publicKey;
    this.accounts = accounts;
    this.online = online;
  }

  /**
   * The safety number with `user`. Online, the contact's key is asked for first, so that both
   * sides compare the keys the relay has now (a change found so leaves its notice); offline,
   * the key last seen serves. An error when no key of theirs is known.
   */
  async view(user: string): Promise<SafetyNumberView> {
    this.checkContact(user);
    if (this.online()) {
      const key = await this.accounts.fetchIdentity(user);
      if (key === null) throw new MessengerError(`${user} has no account on this relay`);
    }
    return this.current(user);
  }

  /** Marks the contact's current identity (the number last shown) as verified. */
  async verify(user: string): Promise<SafetyNumberView> {
    const view = await this.view(user);
    this.sql(
      'INSERT OR REPLACE INTO verified (user, identity_key, verified_at) VALUES (?, ?, ?)',
    ).run(user, this.knownKey(user), Date.now());
    return { ...view, verified: true, changed: false };
  }

  /** Clears the mark (nothing is blocked from then on). */
  unverify(user: string): SafetyNumberView {
    this.checkContact(user);
    this.sql('DELETE FROM verified WHERE user = ?').run(user);
    return this.current(user);
  }

  /**
   * Accepts the contact's new identity after a change: no longer verified (the user checks the
   * new number and verifies again), and sending goes on. Without a change, nothing changes.
   */
  acceptIdentity(user: string): SafetyNumberView {
    this.checkContact(user);
    if (this.changed(user)) this.sql('DELETE FROM verified WHERE user = ?').run(user);
    return this.current(user);
  }

  /** Whether sending to `user` waits for the user to accept their new safety number. */
  blocked(user: string): boolean {
    return this.changed(user);
  }

  /** Throws when sending to `to` waits for the user to accept their new safety number. */
  requireSendable(to: string): void {
    if (!this.changed(to)) return;
    throw new IdentityChangedError(
      `${to}'s safety number changed: check it, then accept it with ` +
        `\`strata accept-identity ${to}\` or in the app`,
    );
  }

  /** The conversation with `peer` was deleted: its verification goes with it. */
  forget(peer: string): void {
    this.sql('DELETE FROM verified WHERE user = ?').run(peer);
  }

  private current(user: string): SafetyNumberView {
    const key = this.knownKey(user);
    if (key === null) {
      throw new MessengerError(
        `${user}'s identity key is not known yet: connect to the relay and ask again`,
      );
    }
    const verifiedKey = this.verifiedKey(user);
    return {
      user,
      number: safetyNumber(this.user, this.identity, user, fromBase64(key)!),
      verified: verifiedKey === key,
      changed: verifiedKey !== null && verifiedKey !== key,
    };
  }

  private changed(user: string): boolean {
    const verifiedKey = this.verifiedKey(user);
    return verifiedKey !== null && verifiedKey !== this.knownKey(user);
  }

  private knownKey(user: string): string | null {
    const row = this.sql('SELECT identity_key FROM identities WHERE user = ?').get(user) as
      { identity_key: string } | undefined;
    return row?.identity_key ?? null;
  }

  private verifiedKey(user: string): string | null {
    const row = this.sql('SELECT identity_key FROM verified WHERE user = ?').get(user) as
      { identity_key: string } | undefined;
    return row?.identity_key ?? null;
  }

  private checkContact(user: string): void {
    if (!isValidUserName(user)) throw new MessengerError(`"${user}" is not a valid user name`);
    if (user === this.user)
      throw new MessengerError('a safety number is between you and someone else');
  }
}
