// The host's events, applied to the slices they concern. Message events come in bursts (a long
// message arrives as many), so they are applied in batches.
import type { MessageView } from '../../../shared/api.ts';
import { HOST_BACK, HOST_LOST, type HostEvent } from '../../../shared/contract.ts';
import { describeEngineError } from '../model/reasons.ts';
import type { Slice, Strata } from './types.ts';

/** Message events are applied in batches this often at most. */
const EVENT_FLUSH_MS = 16;
/**
 * Refusals of this device's account: an account event follows, and the window shows the
 * screen that says it (the name taken, the device removed or unknown); a toast would repeat it,
 * and outlive it once another name is picked.
 */
const ACCOUNT_REFUSALS = new Set(['nameTaken', 'deviceRemoved', 'authFailed']);

export interface EventsSlice {
  onEvent(event: HostEvent): void;
}

/** The peer of the message with this key, if this window has seen it. */
function peerOf(s: Strata, key: string | undefined): string | null {
  if (key === undefined) return null;
  for (const [peer, chat] of Object.entries(s.byPeer)) {
    if (chat.list.some((m) => m.key === key)) return peer;
  }
  for (const c of Object.values(s.conversations)) if (c.lastMessage?.key === key) return c.peer;
  return null;
}

export const createEventsSlice: Slice<EventsSlice> = () => (set, get) => {
  let pending: MessageView[] = [];
  let flushTimer: ReturnType<typeof setTimeout> | null = null;

  function flush(): void {
    flushTimer = null;
    const batch = pending;
    pending = [];
    get().applyMessages(batch, 'batch');
    if (batch.some((m) => m.direction === 'in')) get().scheduleUnreadRefresh();
  }

  return {
    onEvent(event) {
      switch (event.type) {
        case 'message':
          get().sampleTransfer(event.message);
          pending.push(event.message);
          flushTimer ??= setTimeout(flush, EVENT_FLUSH_MS);
          return;
        case 'presence':
          set((s) => ({ presence: { ...s.presence, [event.presence.user]: event.presence } }));
          return;
        case 'typing':
          set((s) => ({ typing: { ...s.typing, [event.user]: event.typing } }));
          return;
        case 'connection': {
          const detail = event.detail ?? null;
          get().patchSession({ connection: event.state, connectionDetail: detail });
          // The host's "stopped typing" events are lost with its link: no indicator may
          // outlive it (a peer still typing refreshes theirs within seconds once it is back).
          if (detail === HOST_LOST) set({ typing: {} });
          if (detail === HOST_BACK) void get().resync();
          return;
        }
        case 'session':
          get().onSession(event.session);
          return;
        case 'error': {
          if (ACCOUNT_REFUSALS.has(event.code)) return;
          const s = get();
          const peer = peerOf(s, event.message);
          s.showToast(describeEngineError(event, peer, s.t, s.language));
          return;
        }
        case 'stats':
          return; // the network view polls for its numbers
        case 'account':
          get().onAccount(event.account);
          return;
        case 'link-request':
          get().onLinkRequest(event.request);
          return;
        case 'device-linked': {
          const s = get();
          s.showToast(s.t('link.linked', { name: event.device.name }));
          return;
        }
        case 'device-removed':
          return; // the devices list in settings asks again when it is open
        case 'identity-changed':
          get().onIdentityChanged(event.user, event.at);
          void get().loadSafety(event.user);
          return;
        case 'contact':
          get().onContact(event.user, event.contact);
          return;
      }
    },
  };
};
