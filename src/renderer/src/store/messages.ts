// The messages of the chats opened since start, kept current by events; sending, paging back
// through history, and reading (messages count as read when their chat is open in a visible,
// focused window).
import type { MessageView } from '../../../shared/api.ts';
import { describeError } from '../errors.ts';
import {
  compareMessages,
  isUnreadIncoming,
  markIncomingRead,
  mergeMessages,
} from '../model/messages.ts';
import type { Slice, Strata } from './types.ts';

/** Messages asked for per history page. */
export const HISTORY_PAGE = 200;

export interface PeerMessages {
  /** Send order, oldest first. */
  list: MessageView[];
  /** The first page has arrived. */
  loaded: boolean;
  /** A page is being fetched. */
  loading: boolean;
  /** There is nothing older than list[0]. */
  complete: boolean;
  /** Why the last page could not be fetched. */
  error: string | null;
}

const EMPTY_PEER: PeerMessages = {
  list: [],
  loaded: false,
  loading: false,
  complete: false,
  error: null,
};

export interface MessagesSlice {
  byPeer: Record<string, PeerMessages>;
  /** Opens a chat (selecting the open one again asks again for a first page that failed). */
  openChat(peer: string): void;
  /** Asks again for a chat's first page if it failed. */
  retryFirstPage(peer: string): void;
  /**
   * The page before the oldest message shown. After a failure only an explicit `retry` asks
   * again: the list asks on every change of its state, so it would otherwise re-ask in a
   * tight loop for as long as the host stays unreachable.
   */
  loadOlder(peer: string, options?: { retry?: boolean }): Promise<void>;
  /** Sends a text; the pending message shows at once. Throws for the composer to keep it. */
  sendText(peer: string, text: string): Promise<void>;
  retryMessage(key: string): Promise<void>;
  setTyping(peer: string, typing: boolean): void;
  /** Marks the open chat read if the window is active and it has unread messages. */
  markReadIfViewing(): Promise<void>;

  // For the other slices.
  /** Puts messages into opened chats and the contact list's previews. */
  applyMessages(batch: readonly MessageView[], newer: 'batch' | 'list'): void;
  /** Shows messages this window just sent, even in a chat whose first page is on its way. */
  addSent(peer: string, view: MessageView): void;
  /** The newest page: on first open, and after the host's link comes back. */
  loadNewest(peer: string): Promise<void>;
  /** Resolves once the markRead calls queued so far are done. */
  markReadSettled(): Promise<void>;
}

function peerMessages(s: Strata, peer: string): PeerMessages {
  return s.byPeer[peer] ?? EMPTY_PEER;
}

export const createMessagesSlice: Slice<MessagesSlice> = (env) => (set, get) => {
  let markReadInFlight: Promise<void> = Promise.resolve();
  /** Chats with a markRead waiting behind the one running (one each is enough). */
  const markReadQueued = new Set<string>();

  function setPeer(peer: string, patch: Partial<PeerMessages>): void {
    set((s) => ({
      byPeer: { ...s.byPeer, [peer]: { ...(s.byPeer[peer] ?? EMPTY_PEER), ...patch } },
    }));
  }

  return {
    byPeer: {},

    openChat(peer) {
      const s = get();
      if (s.selected === peer) {
        s.retryFirstPage(peer);
        return;
      }
      if (
        s.conversations[peer] === undefined &&
        s.presence[peer] === undefined &&
        !s.started.includes(peer)
      ) {
        set({ started: [...s.started, peer] });
      }
      set({ selected: peer });
      if (!peerMessages(get(), peer).loaded) void get().loadNewest(peer);
      else void get().markReadIfViewing();
    },

    retryFirstPage(peer) {
      const current = peerMessages(get(), peer);
      if (current.loaded || current.loading) return;
      void get().loadNewest(peer);
    },

    async loadNewest(peer) {
      const client = get().client();
      if (client === null) return;
      const first = !peerMessages(get(), peer).loaded;
      setPeer(peer, { loading: true, error: null });
      try {
        const page = await client.call('history', { peer, limit: HISTORY_PAGE });
        const known = new Set(peerMessages(get(), peer).list.map((m) => m.key));
        const oldest = page[0];
        if (
          !first &&
          page.length === HISTORY_PAGE &&
          oldest !== undefined &&
          !known.has(oldest.key)
        ) {
          // More arrived while away than one page holds: a gap would lie between the list and
          // this page, so the page replaces the list and older ones load on scrolling up.
          const newest = page[page.length - 1]!;
          setPeer(peer, {
            list: peerMessages(get(), peer).list.filter((m) => compareMessages(m, newest) > 0),
            complete: false,
          });
        }
        // Events that arrived while this was on its way are newer than the page.
        get().applyMessages(page, 'list');
        setPeer(peer, {
          loaded: true,
          loading: false,
          ...(first ? { complete: page.length < HISTORY_PAGE } : {}),
        });
      } catch (e) {
        setPeer(peer, { loading: false, error: describeError(e, get().t) });
      }
    },

    async loadOlder(peer, { retry = false } = {}) {
      const client = get().client();
      const current = peerMessages(get(), peer);
      const oldest = current.list[0];
      if (client === null || current.loading || current.complete || !current.loaded) return;
      if (current.error !== null && !retry) return;
      if (oldest === undefined) return;
      setPeer(peer, { loading: true, error: null });
      try {
        const page = await client.call('history', {
          peer,
          before: oldest.key,
          limit: HISTORY_PAGE,
        });
        get().applyMessages(page, 'list');
        setPeer(peer, { loading: false, complete: page.length < HISTORY_PAGE });
      } catch (e) {
        setPeer(peer, { loading: false, error: describeError(e, get().t) });
      }
    },

    async sendText(peer, text) {
      const view = await get().requireClient().call('send', { to: peer, text });
      get().addSent(peer, view);
    },

    addSent(peer, view) {
      if (get().byPeer[peer] === undefined) setPeer(peer, {});
      get().applyMessages([view], 'batch');
    },

    async retryMessage(key) {
      const { client, showToast, t } = get();
      const api = client();
      if (api === null) return;
      try {
        if (!(await api.call('retry', { key }))) showToast(t('error.retryRefused'));
      } catch (e) {
        showToast(describeError(e, t));
      }
    },

    setTyping(peer, typing) {
      // Best effort: a lost typing notice only means a missing indicator.
      get()
        .client()
        ?.call('setTyping', { peer, typing })
        .catch(() => undefined);
    },

    applyMessages(batch, newer) {
      const byPeer = new Map<string, MessageView[]>();
      for (const m of batch) byPeer.set(m.peer, [...(byPeer.get(m.peer) ?? []), m]);

      const lists = get().byPeer;
      const nextLists: Record<string, PeerMessages> = { ...lists };
      let listsChanged = false;
      for (const [peer, messages] of byPeer) {
        const current = lists[peer];
        if (current === undefined) continue; // not opened: its history loads when it is
        const merged = mergeMessages(current.list, messages, newer);
        if (merged.list !== current.list) {
          nextLists[peer] = { ...current, list: merged.list };
          listsChanged = true;
        }
      }
      if (listsChanged) set({ byPeer: nextLists });

      set((s) => {
        const conversations = { ...s.conversations };
        for (const [peer, messages] of byPeer) {
          const lastInList = nextLists[peer]?.list.at(-1);
          const newest = messages.reduce((a, b) => (compareMessages(a, b) >= 0 ? a : b));
          const conversation = conversations[peer] ?? {
            peer,
            lastMessage: null,
            unread: 0,
            presence: s.presence[peer] ?? null,
            // Until the host's list says: someone who wrote first is a message request.
            contact: newest.direction === 'in' ? 'request' : 'accepted',
          };
          const preview =
            lastInList ??
            (conversation.lastMessage === null ||
            compareMessages(newest, conversation.lastMessage) >= 0
              ? newest
              : conversation.lastMessage);
          conversations[peer] = { ...conversation, lastMessage: preview };
        }
        return { conversations };
      });
      void get().markReadIfViewing();
    },

    markReadIfViewing() {
      const peer = get().selected;
      const client = get().client();
      if (peer === null || client === null || !env.windowIsActive()) return markReadInFlight;
      const unread =
        (get().conversations[peer]?.unread ?? 0) > 0 ||
        peerMessages(get(), peer).list.some(isUnreadIncoming);
      if (!unread || markReadQueued.has(peer)) return markReadInFlight;
      markReadQueued.add(peer);
      markReadInFlight = markReadInFlight.then(async () => {
        markReadQueued.delete(peer);
        // The user may have left the chat (or the window) while this waited its turn.
        if (get().selected !== peer || !env.windowIsActive()) return;
        try {
          await client.call('markRead', { peer });
        } catch {
          return; // still unread; the next message or focus tries again
        }
        // The host marked them read but sends no event for it: mirror it here.
        const current = get().byPeer[peer];
        if (current !== undefined) {
          const list = markIncomingRead(current.list);
          if (list !== current.list) setPeer(peer, { list });
        }
        set((s) => {
          const c = s.conversations[peer];
          if (c === undefined) return s;
          const lastMessage =
            c.lastMessage !== null && isUnreadIncoming(c.lastMessage)
              ? { ...c.lastMessage, status: 'read' as const }
              : c.lastMessage;
          return {
            conversations: { ...s.conversations, [peer]: { ...c, unread: 0, lastMessage } },
          };
        });
      });
      return markReadInFlight;
    },

    markReadSettled: () => markReadInFlight,
  };
};
