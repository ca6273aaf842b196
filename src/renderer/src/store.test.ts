import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConversationView } from '../../shared/api.ts';
import { ApiError, HOST_LOST, type SessionView, type StrataApi } from '../../shared/contract.ts';
import { message } from './model/testing.ts';
import {
  MAX_TOASTS,
  boot,
  loadOlder,
  markReadIfViewing,
  openChat,
  onEvent,
  dismissToast,
  showToast,
  useUiStore,
  useContactsStore,
  useMessagesStore,
  useSessionStore,
  type PeerMessages,
} from './store.ts';

const SESSION: SessionView = {
  profile: 'alice',
  user: 'alice',
  relayUrl: 'ws://127.0.0.1:7000/',
  connection: 'online',
  connectionDetail: null,
  settings: { segmentSize: 1024, assemblyPeriodMs: 1000, idleCycles: 2 },
  files: null,
  host: 'browser',
};

/** A host stand-in whose `history` answers come from `answer`; every call is recorded. */
function ready(answer: (params: unknown) => unknown): { calls: string[] } {
  const calls: string[] = [];
  const api: StrataApi = {
    call: async (method, params) => {
      calls.push(method);
      if (method !== 'history') throw new Error(`unexpected ${method}`);
      return answer(params) as never;
    },
    subscribe: () => () => undefined,
  };
  useSessionStore.setState({ phase: { kind: 'ready', api, session: SESSION } });
  return { calls };
}

/** A promise and the function that resolves it, for answers a test holds back. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves once a chat's messages pass `test` (checked on every change of the store). */
function chatWhen(peer: string, test: (state: PeerMessages) => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      const state = useMessagesStore.getState().byPeer[peer];
      if (state === undefined || !test(state)) return;
      stop();
      resolve();
    };
    const stop = useMessagesStore.subscribe(check);
    check();
  });
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
  useUiStore.setState({ selected: null });
  useSessionStore.setState({ phase: { kind: 'connecting' } });
  useMessagesStore.setState({ byPeer: {} });
  useContactsStore.setState({ conversations: {}, presence: {}, typing: {}, started: [] });
  for (const toast of useUiStore.getState().toasts) dismissToast(toast.id);
});

/**
 * A browser-host socket stand-in (the WebSocket client's transport): it opens at once and
 * answers `session` with whatever `session` says, an error body or a result.
 */
class HostSocket {
  static made: HostSocket[] = [];
  static session: () => { result: unknown } | { error: { code: 'internal'; message: string } };
  readyState = 0;
  closed = false;
  private readonly listeners = new Map<string, ((e: unknown) => void)[]>();

  constructor() {
    HostSocket.made.push(this);
    queueMicrotask(() => {
      this.readyState = 1;
      this.emit('open', {});
    });
  }

  addEventListener(type: string, listener: (e: unknown) => void): void {
    this.listeners.set(type, [...(this.listeners.get(type) ?? []), listener]);
  }

  send(data: string): void {
    const { id, method } = JSON.parse(data) as { id: number; method: string };
    if (method !== 'session') throw new Error(`unexpected ${method}`);
    const reply = JSON.stringify({ id, ...HostSocket.session() });
    queueMicrotask(() => this.emit('message', { data: reply }));
  }

  close(): void {
    this.closed = true;
    this.readyState = 3;
    queueMicrotask(() => this.emit('close', {}));
  }

  private emit(type: string, e: unknown): void {
    for (const listener of this.listeners.get(type) ?? []) listener(e);
  }
}

describe('boot', () => {
  it('closes the client whose session call failed, and starts once when asked twice', async () => {
    vi.stubGlobal('window', { location: { protocol: 'http:', host: '127.0.0.1:9', search: '' } });
    vi.stubGlobal('WebSocket', HostSocket);
    HostSocket.made = [];
    HostSocket.session = () => ({ error: { code: 'internal', message: 'profile locked' } });

    await boot();
    expect(useSessionStore.getState().phase).toMatchObject({ kind: 'failed' });
    // The link itself works: left open, its client would go on reconnecting after every drop.
    expect(HostSocket.made.map((x) => x.closed)).toEqual([true]);

    // Retry, as StrictMode does in development: two calls at once make one start.
    HostSocket.session = () => ({ result: { ...SESSION, user: null } });
    await Promise.all([boot(), boot()]);
    expect(useSessionStore.getState().phase).toMatchObject({ kind: 'ready' });
    expect(HostSocket.made.map((x) => x.closed)).toEqual([true, false]);
    await boot();
    expect(HostSocket.made).toHaveLength(2);
  });
});

describe('first page', () => {
  it('is asked for again when its chat is selected again after a failure', async () => {
    vi.stubGlobal('document', { visibilityState: 'visible', hasFocus: () => true });
    let down = true;
    const { calls } = ready(() => {
      if (down) throw new ApiError('unreachable', 'the app host is not connected');
      return [message({ id: 1, direction: 'out' })];
    });
    openChat('bob');
    await chatWhen('bob', (x) => x.error !== null);
    expect(calls).toEqual(['history']);

    down = false;
    openChat('bob');
    expect(useMessagesStore.getState().byPeer['bob']).toMatchObject({ loading: true, error: null });
    await chatWhen('bob', (x) => x.loaded);
    expect(calls).toEqual(['history', 'history']);
    expect(useMessagesStore.getState().byPeer['bob']).toMatchObject({ error: null });
    expect(useMessagesStore.getState().byPeer['bob']!.list).toHaveLength(1);
  });
});

describe('loadOlder', () => {
  it('does not ask again by itself after a failure, only when retried', async () => {
    vi.stubGlobal('document', { visibilityState: 'visible', hasFocus: () => true });
    let down = true;
    const { calls } = ready(() => {
      if (down) throw new ApiError('unreachable', 'the app host is not connected');
      return [];
    });
    useMessagesStore.setState({
      byPeer: {
        bob: {
          list: [message({ id: 5, direction: 'in' })],
          loaded: true,
          loading: false,
          complete: false,
          error: null,
        },
      },
    });
    await loadOlder('bob');
    expect(calls).toEqual(['history']);
    expect(useMessagesStore.getState().byPeer['bob']).toMatchObject({ loading: false });
    expect(useMessagesStore.getState().byPeer['bob']!.error).not.toBeNull();

    // The list re-asks whenever its state changes: that must not become a loop.
    await loadOlder('bob');
    expect(calls).toEqual(['history']);

    down = false;
    await loadOlder('bob', { retry: true });
    expect(calls).toEqual(['history', 'history']);
    expect(useMessagesStore.getState().byPeer['bob']).toMatchObject({
      error: null,
      complete: true,
    });
  });
});

describe('loading contacts', () => {
  it('keeps what message events showed while the list was on its way', async () => {
    vi.useFakeTimers();
    const conversation = (id: number, unread: number): ConversationView => ({
      peer: 'bob',
      lastMessage: message({ id, direction: 'in' }),
      unread,
      presence: null,
    });
    const late = deferred<ConversationView[]>();
    let asked = 0;
    const api: StrataApi = {
      call: async (method) => {
        // The first answer is held back; later ones are the host's current truth.
        if (method === 'conversations') {
          return (++asked === 1 ? await late.promise : [conversation(6, 3)]) as never;
        }
        if (method === 'presence') return [] as never;
        throw new Error(`unexpected ${method}`);
      },
      subscribe: () => () => undefined,
    };
    useSessionStore.setState({
      phase: { kind: 'ready', api, session: { ...SESSION, user: null } },
    });
    // A returning user logs in: the contact list is asked for, and answered late.
    onEvent({ type: 'session', session: SESSION });
    onEvent({ type: 'message', message: message({ id: 6, direction: 'in' }) });
    onEvent({ type: 'message', message: message({ id: 1, direction: 'in', peer: 'carol' }) });
    // The batch is applied and the unread counts re-read, all before the late answer.
    await vi.advanceTimersByTimeAsync(1000);
    expect(asked).toBe(2);
    expect(useContactsStore.getState().conversations['bob']).toMatchObject({ unread: 3 });

    late.resolve([conversation(5, 2)]);
    await vi.advanceTimersByTimeAsync(1000);
    const { conversations } = useContactsStore.getState();
    expect(conversations['bob']!.lastMessage!.id).toBe(6);
    expect(conversations['bob']!.unread).toBe(3);
    expect(conversations['carol']!.lastMessage!.id).toBe(1);
    // The stale answer's counts are not trusted: they are asked for again.
    expect(asked).toBe(3);
  });
});

describe('marking read', () => {
  it('queues one call per chat, for the chat still open when its turn comes', async () => {
    // The window is visible and focused.
    vi.stubGlobal('document', { visibilityState: 'visible', hasFocus: () => true });
    const started = deferred<void>();
    const first = deferred<void>();
    const marked: string[] = [];
    const api: StrataApi = {
      call: async (method, params) => {
        if (method !== 'markRead') throw new Error(`unexpected ${method}`);
        marked.push((params as { peer: string }).peer);
        if (marked.length === 1) {
          started.resolve();
          await first.promise;
        }
        return undefined as never;
      },
      subscribe: () => () => undefined,
    };
    useSessionStore.setState({ phase: { kind: 'ready', api, session: SESSION } });
    const chat = (peer: string): PeerMessages => ({
      list: [message({ id: 1, direction: 'in', peer })],
      loaded: true,
      loading: false,
      complete: true,
      error: null,
    });
    useMessagesStore.setState({ byPeer: { bob: chat('bob'), carol: chat('carol') } });

    openChat('bob');
    await started.promise;
    // Another message for bob while the first markRead is still running.
    void markReadIfViewing();
    openChat('carol');
    first.resolve();
    await markReadIfViewing();

    // bob's queued call is moot (the user left bob); carol's was not dropped.
    expect(marked).toEqual(['bob', 'carol']);
    expect(useMessagesStore.getState().byPeer['carol']!.list[0]!.status).toBe('read');
  });
});

describe('typing', () => {
  it('clears every indicator when the link to the host is lost', () => {
    ready(() => []);
    onEvent({ type: 'typing', user: 'bob', typing: true });
    expect(useContactsStore.getState().typing['bob']).toBe(true);
    // The "stopped" event that the host sends meanwhile never arrives.
    onEvent({ type: 'connection', state: 'offline', detail: HOST_LOST });
    expect(useContactsStore.getState().typing['bob']).not.toBe(true);
  });
});

describe('toasts', () => {
  it('keeps only the newest few of a burst of different errors', () => {
    for (let i = 0; i < 50; i++) onEvent({ type: 'error', code: 'refused', text: `refused ${i}` });
    showToast('one more');
    const texts = useUiStore.getState().toasts.map((x) => x.text);
    expect(texts).toHaveLength(MAX_TOASTS);
    expect(texts.at(-1)).toBe('one more');
    expect(texts.at(-2)).toBe('refused 49');
  });
});
