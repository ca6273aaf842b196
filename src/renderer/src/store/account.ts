// This profile's account as the window follows it: its state (registered, name taken,
// removed), the recovery code while it waits to be confirmed, the new devices asking to join
// through a link code of ours, and the contacts whose identity changed. Logging in by linking
// or by recovery goes through here too, as login does through the session slice.
import type { AccountView, LinkRequestView } from '../../../shared/api.ts';
import type { HostClient } from '../api/index.ts';
import type { Slice } from './types.ts';

export interface AccountSlice {
  /** Null before the first login of the profile (or while it is unknown). */
  account: AccountView | null;
  /** The recovery code to show once; null when none waits (or it is being fetched). */
  recoveryCode: string | null;
  /** New devices asking to join, oldest first; each waits for Accept or Decline. */
  linkRequests: LinkRequestView[];
  /** When each contact's account identity last changed, as far as this window knows. */
  identityChanges: Record<string, number>;
  /** The change (its time) the user closed the notice of, per contact. */
  identityDismissed: Record<string, number>;

  /**
   * Asks the host for the account (and the pending recovery code, if one waits). Never throws:
   * a host that cannot say leaves what was known, and the next account event corrects it.
   */
  loadAccount(client?: HostClient): Promise<void>;
  onAccount(account: AccountView, client?: HostClient): void;
  /** Confirms the recovery code is written down: the host deletes it; it is never shown again. */
  acknowledgeRecoveryCode(): Promise<void>;
  onLinkRequest(request: LinkRequestView): void;
  answerLink(device: number, accept: boolean): Promise<void>;
  onIdentityChanged(user: string, at?: number): void;
  /** Asks the host for a conversation's notices (changes seen while no window was open too). */
  loadNotices(peer: string): Promise<void>;
  dismissIdentityChange(user: string): void;
  /** A fresh profile joins the account whose device shows `code`; throws ApiError. */
  linkDevice(code: string, relayUrl: string): Promise<void>;
  /** A fresh profile takes `user`'s account back with its recovery code; throws ApiError. */
  recoverAccount(user: string, code: string, relayUrl: string): Promise<void>;
}

export const createAccountSlice: Slice<AccountSlice> = () => (set, get) => {
  /** The fetch of the pending code under way, so that events arriving together ask once. */
  let fetchingCode: Promise<void> | null = null;

  function fetchRecoveryCode(client: HostClient | null): void {
    if (client === null || fetchingCode !== null || get().recoveryCode !== null) return;
    fetchingCode = client
      .call('pendingRecoveryCode', {})
      .then((code) => {
        if (get().account?.recoveryCodePending) set({ recoveryCode: code });
      })
      .catch(() => undefined) // the next account event or reload asks again
      .finally(() => {
        fetchingCode = null;
      });
  }

  return {
    account: null,
    recoveryCode: null,
    linkRequests: [],
    identityChanges: {},
    identityDismissed: {},

    async loadAccount(given) {
      const client = given ?? get().client();
      if (client === null) return;
      let account: AccountView | null;
      try {
        account = await client.call('account', {});
      } catch {
        return;
      }
      if (account === null) set({ account: null, recoveryCode: null });
      else get().onAccount(account, client);
    },

    onAccount(account, client) {
      const before = get().account;
      const otherUser = before !== null && before.user !== account.user;
      set({
        account,
        ...(account.recoveryCodePending ? {} : { recoveryCode: null }),
        ...(otherUser
          ? { linkRequests: [], identityChanges: {}, identityDismissed: {}, safety: {} }
          : {}),
      });
      if (account.recoveryCodePending) fetchRecoveryCode(client ?? get().client());
    },

    async acknowledgeRecoveryCode() {
      const account = await get().requireClient().call('acknowledgeRecoveryCode', {});
      set({ recoveryCode: null });
      get().onAccount(account);
    },

    onLinkRequest(request) {
      set((s) => ({
        linkRequests: [...s.linkRequests.filter((r) => r.device !== request.device), request],
      }));
    },

    async answerLink(device, accept) {
      await get().requireClient().call('answerLink', { device, accept });
      set((s) => ({ linkRequests: s.linkRequests.filter((r) => r.device !== device) }));
    },

    onIdentityChanged(user, at = Date.now()) {
      set((s) => ({
        identityChanges: {
          ...s.identityChanges,
          [user]: Math.max(at, s.identityChanges[user] ?? 0),
        },
      }));
    },

    async loadNotices(peer) {
      const client = get().client();
      if (client === null) return;
      let notices;
      try {
        notices = await client.call('notices', { peer });
      } catch {
        return; // the notice shows with the next change, or when the chat opens again
      }
      const last = notices.at(-1);
      if (last !== undefined) get().onIdentityChanged(peer, last.at);
    },

    dismissIdentityChange(user) {
      set((s) => ({
        identityDismissed: { ...s.identityDismissed, [user]: s.identityChanges[user] ?? 0 },
      }));
    },

    async linkDevice(code, relayUrl) {
      const client = get().requireClient();
      const next = await client.call('linkDevice', { code, relayUrl });
      await get().loadAccount(client);
      get().onSession(next);
    },

    async recoverAccount(user, code, relayUrl) {
      const client = get().requireClient();
      const next = await client.call('recoverAccount', { user, code, relayUrl });
      await get().loadAccount(client);
      get().onSession(next);
    },
  };
};
