// The link to the host and who is logged in: reaching the host, following its events, logging
// in, and catching up after the link comes back.
import { ApiError, type SessionView } from '../../../shared/contract.ts';
import type { ApiClient, HostClient } from '../api/index.ts';
import type { Slice, Strata } from './types.ts';

export type Phase =
  | { kind: 'connecting' }
  | { kind: 'failed'; detail: string }
  | { kind: 'ready'; api: HostClient; session: SessionView };

export interface SessionSlice {
  phase: Phase;
  /**
   * Reaches the host, learns the session and follows its events. A call while a start is under
   * way joins it (development's StrictMode runs effects twice), and once ready it does nothing.
   */
  boot(): Promise<void>;
  /** Logs in; throws ApiError for the login form to show. */
  login(user: string, relayUrl: string): Promise<void>;

  // For the other slices.
  /** The host, once reached. */
  client(): HostClient | null;
  /** The host, or ApiError('unreachable') for a caller that must report it. */
  requireClient(): HostClient;
  session(): SessionView | null;
  patchSession(patch: Partial<SessionView>): void;
  onSession(next: SessionView): void;
  /** The host came back after its link dropped: catch up with what changed meanwhile. */
  resync(): Promise<void>;
}

function readyPhase(s: Strata): Extract<Phase, { kind: 'ready' }> | null {
  return s.phase.kind === 'ready' ? s.phase : null;
}

export const createSessionSlice: Slice<SessionSlice> = (env) => (set, get) => {
  /** The client in use and its event subscription. */
  let link: { client: ApiClient; unsubscribe: () => void } | null = null;
  let booting: Promise<void> | null = null;

  function dropLink(): void {
    link?.unsubscribe();
    // A client left open keeps reconnecting to the host for nothing.
    link?.client.close();
    link = null;
  }

  async function start(): Promise<void> {
    set({ phase: { kind: 'connecting' } });
    dropLink();
    try {
      const client = await env.connect();
      // Subscribe before asking, so that nothing that happens in between is missed.
      link = { client, unsubscribe: client.subscribe((e) => get().onEvent(e)) };
      const current = await client.call('session', {});
      get().applyPreferences(current.preferences);
      // The account first: a recovery code waiting to be confirmed shows before any chat.
      if (current.user !== null) await get().loadAccount(client);
      set({ phase: { kind: 'ready', api: client, session: current } });
      if (current.user !== null) await get().loadContacts();
    } catch (e) {
      dropLink();
      // The screen already says the host cannot be reached: the detail says why.
      set({ phase: { kind: 'failed', detail: e instanceof Error ? e.message : String(e) } });
    }
  }

  return {
    phase: { kind: 'connecting' },

    boot() {
      if (readyPhase(get()) !== null) return Promise.resolve();
      booting ??= start().finally(() => {
        booting = null;
      });
      return booting;
    },

    async login(user, relayUrl) {
      const client = get().requireClient();
      const next = await client.call('login', { user, relayUrl });
      await get().loadAccount(client);
      get().onSession(next);
    },

    client: () => readyPhase(get())?.api ?? null,

    requireClient() {
      const client = get().client();
      if (client === null) throw new ApiError('unreachable', get().t('connect.lost'));
      return client;
    },

    session: () => readyPhase(get())?.session ?? null,

    patchSession(patch) {
      const ready = readyPhase(get());
      if (ready === null) return;
      set({ phase: { ...ready, session: { ...ready.session, ...patch } } });
    },

    onSession(next) {
      const ready = readyPhase(get());
      if (ready === null) return;
      const before = ready.session;
      get().applyPreferences(next.preferences);
      set({ phase: { ...ready, session: next } });
      if (next.user === null || before.user === next.user) return;
      if (before.user !== null) {
        // Another user in the same window: nothing of the previous one may show.
        set({
          conversations: {},
          presence: {},
          typing: {},
          started: [],
          byPeer: {},
          selected: null,
          drafts: {},
          search: '',
        });
      }
      void get().loadContacts();
    },

    async resync() {
      const client = get().client();
      if (client === null) return;
      try {
        get().onSession(await client.call('session', {}));
      } catch {
        return; // the link dropped again; the next reconnect retries
      }
      await Promise.all([get().loadAccount(client), get().loadContacts()]);
      // Events were missed while the link was down: chats not on screen load afresh when
      // opened.
      const peer = get().selected;
      set((s) => ({
        byPeer: peer !== null && s.byPeer[peer] !== undefined ? { [peer]: s.byPeer[peer] } : {},
      }));
      if (peer !== null) await get().loadNewest(peer);
    },
  };
};
