// Safety numbers as the window follows them: each contact's number and whether the user
// verified it, and the contacts whose number changed since (sending to them waits until the
// user accepts the new number). The host computes and keeps all of it (core/safety.ts).
import type { SafetyNumberView } from '../../../shared/api.ts';
import type { Slice } from './types.ts';

export interface SafetySlice {
  /** Each contact's safety number as the host last said it. */
  safety: Record<string, SafetyNumberView>;
  /**
   * Asks the host for `peer`'s safety number. Never throws: the reason it cannot be shown (no
   * key of theirs known yet) is returned, and what was known stays.
   */
  loadSafety(peer: string): Promise<unknown>;
  /** Marks `peer` verified or clears the mark; throws ApiError. */
  setVerified(peer: string, verified: boolean): Promise<void>;
  /** Accepts `peer`'s changed safety number: sending goes on; throws ApiError. */
  acceptIdentity(peer: string): Promise<void>;
}

/** Whether sending to `peer` waits for the user to accept their new safety number. */
export const identityBlocked = (s: SafetySlice, peer: string): boolean =>
  s.safety[peer]?.changed === true;

export const createSafetySlice: Slice<SafetySlice> = () => (set, get) => {
  const keep = (view: SafetyNumberView) =>
    set((s) => ({ safety: { ...s.safety, [view.user]: view } }));

  return {
    safety: {},

    async loadSafety(peer) {
      const client = get().client();
      if (client === null) return null;
      try {
        keep(await client.call('safetyNumber', { user: peer }));
        return null;
      } catch (e) {
        return e;
      }
    },

    async setVerified(peer, verified) {
      keep(await get().requireClient().call('setVerified', { user: peer, verified }));
    },

    async acceptIdentity(peer) {
      keep(await get().requireClient().call('acceptIdentity', { user: peer }));
    },
  };
};
