// The contact list: conversations, presence and typing, by user name. Unread counts come from
// the host (it alone knows what was read before this window opened); bursts of incoming
// messages cost one request, and a request never overlaps another.
import type { ConversationView, PresenceView } from '../../../shared/api.ts';
import { describeError } from '../errors.ts';
import { mergeConversations } from '../model/contacts.ts';
import type { Slice } from './types.ts';

/** Unread counts are re-read from the host this long after the last incoming message. */
const UNREAD_REFRESH_MS = 150;

export interface ContactsSlice {
  conversations: Record<string, ConversationView>;
  presence: Record<string, PresenceView>;
  typing: Record<string, boolean>;
  /** Chats started from search that have no message yet. */
  started: string[];

  // For the other slices.
  loadContacts(): Promise<void>;
  /** Re-reads the unread counts soon (once for a burst). */
  scheduleUnreadRefresh(): void;
}

export const createContactsSlice: Slice<ContactsSlice> = () => (set, get) => {
  let unreadTimer: ReturnType<typeof setTimeout> | null = null;
  let unreadInFlight = false;
  let unreadAgain = false;

  async function refreshUnread(): Promise<void> {
    const client = get().client();
    if (client === null) return;
    if (unreadInFlight) {
      unreadAgain = true;
      return;
    }
    unreadInFlight = true;
    try {
      await get().markReadSettled();
      const fresh = await client.call('conversations', {});
      // An event newer than this answer may already have updated the preview.
      set((s) => ({ conversations: mergeConversations(s.conversations, fresh).conversations }));
      void get().markReadIfViewing();
    } catch {
      // The link is down; the next message or reconnect refreshes again.
    } finally {
      unreadInFlight = false;
      if (unreadAgain) {
        unreadAgain = false;
        get().scheduleUnreadRefresh();
      }
    }
  }

  return {
    conversations: {},
    presence: {},
    typing: {},
    started: [],

    async loadContacts() {
      const client = get().client();
      if (client === null) return;
      try {
        const [conversations, presence] = await Promise.all([
          client.call('conversations', {}),
          client.call('presence', {}),
        ]);
        // Message events applied while this was on its way are newer than the answer.
        const merged = mergeConversations(get().conversations, conversations);
        set({
          conversations: merged.conversations,
          presence: Object.fromEntries(presence.map((p) => [p.user, p])),
        });
        if (merged.stale.length > 0) get().scheduleUnreadRefresh();
      } catch (e) {
        const { t, showToast } = get();
        showToast(t('error.loadContacts', { detail: describeError(e, t) }));
      }
    },

    scheduleUnreadRefresh() {
      if (unreadTimer !== null) clearTimeout(unreadTimer);
      unreadTimer = setTimeout(() => {
        unreadTimer = null;
        void refreshUnread();
      }, UNREAD_REFRESH_MS);
    },
  };
};
