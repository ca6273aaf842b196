import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ConversationView } from '../../../shared/api.ts';
import { ApiError, HOST_LOST, type SessionView, type StrataApi } from '../../../shared/contract.ts';
import { StageError, type HostClient } from '../api/index.ts';
import { message } from '../model/testing.ts';
import {
  MAX_TOASTS,
  browserEnv,
  createStrataStore,
  type PeerMessages,
  type StrataStore,
} from './index.ts';

const SESSION: SessionView = {
  profile: 'alice',
  user: 'alice',
  relayUrl: 'ws://127.0.0.1:7000/',
  relayFingerprint: null,
  connection: 'online',
  connectionDetail: null,
  settings: { segmentSize: 1024, assemblyPeriodMs: 1000, idleCycles: 2 },
  files: null,
  host: 'browser',
  preferences: { language: null },
};

/** A fresh store, in a window that is visible and focused unless told otherwise. */
function makeStore(windowIsActive = () => true): StrataStore {
  return createStrataStore({
    ...browserEnv(),
    windowIsActive,
    systemLanguages: () => ['en'],
    pageLanguage: () => null,
  });
}

/** A host whose calls go to `call`; it hands over no file. */
function host(call: StrataApi['call']): HostClient {
  return {
    call,
    subscribe: () => () => undefined,
    stageFile: () => Promise.reject(new Error('no files here')),
    stagesPageFiles: true,
  };
}

/** A store logged in to a host whose `history` answers come from `answer`; calls are recorded. */
function ready(answer: (params: unknown) => unknown): { store: StrataStore; calls: string[] } {
  const calls: string[] = [];
  const api = host(async (method, params) => {
    calls.push(method);
    if (method !== 'history') throw new Error(`unexpected ${method}`);
    return answer(params) as never;
  });
  const store = makeStore();
  store.setState({ phase: { kind: 'ready', api, session: SESSION } });
  return { store, calls };
}

/** A promise and the function that resolves it, for answers a test holds back. */
function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
}

/** Resolves once a chat's messages pass `test` (checked on every change of the store). */
function chatWhen(
  store: StrataStore,
  peer: string,
  test: (state: PeerMessages) => boolean,
): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => {
      const state = store.getState().byPeer[peer];
      if (state === undefined || !test(state)) return;
      stop();
      resolve();
    };
    const stop = store.subscribe(check);
    check();
  });
}

afterEach(() => {
  vi.useRealTimers();
  vi.unstubAllGlobals();
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

    const store = makeStore();
    const { boot } = store.getState();
    await boot();
    expect(store.getState().phase).toMatchObject({ kind: 'failed' });
    // The link itself works: left open, its client would go on reconnecting after every drop.
    expect(HostSocket.made.map((x) => x.closed)).toEqual([true]);

    // Retry, as StrictMode does in development: two calls at once make one start.
    HostSocket.session = () => ({ result: { ...SESSION, user: null } });
    await Promise.all([boot(), boot()]);
    expect(store.getState().phase).toMatchObject({ kind: 'ready' });
    expect(HostSocket.made.map((x) => x.closed)).toEqual([true, false]);
    await boot();
    expect(HostSocket.made).toHaveLength(2);
  });
});

describe('first page', () => {
  it('is asked for again when its chat is selected again after a failure', async () => {
    let down = true;
    const { store, calls } = ready(() => {
      if (down) throw new ApiError('unreachable', 'the app host is not connected');
      return [message({ id: 1, direction: 'out' })];
    });
    const { openChat } = store.getState();
    openChat('bob');
    await chatWhen(store, 'bob', (x) => x.error !== null);
    expect(calls).toEqual(['history']);

    down = false;
    openChat('bob');
    expect(store.getState().byPeer['bob']).toMatchObject({ loading: true, error: null });
    await chatWhen(store, 'bob', (x) => x.loaded);
    expect(calls).toEqual(['history', 'history']);
    expect(store.getState().byPeer['bob']).toMatchObject({ error: null });
    expect(store.getState().byPeer['bob']!.list).toHaveLength(1);
  });
});

describe('loadOlder', () => {
  it('does not ask again by itself after a failure, only when retried', async () => {
    let down = true;
    const { store, calls } = ready(() => {
      if (down) throw new ApiError('unreachable', 'the app host is not connected');
      return [];
    });
    const { loadOlder } = store.getState();
    store.setState({
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
    expect(store.getState().byPeer['bob']).toMatchObject({ loading: false });
    expect(store.getState().byPeer['bob']!.error).not.toBeNull();

    // The list re-asks whenever its state changes: that must not become a loop.
    await loadOlder('bob');
    expect(calls).toEqual(['history']);

    down = false;
    await loadOlder('bob', { retry: true });
    expect(calls).toEqual(['history', 'history']);
    expect(store.getState().byPeer['bob']).toMatchObject({
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
      contact: 'accepted',
      lastMessage: message({ id, direction: 'in' }),
      unread,
      presence: null,
    });
    const late = deferred<ConversationView[]>();
    let asked = 0;
    const api = host(async (method) => {
      // The first answer is held back; later ones are the host's current truth.
      if (method === 'conversations') {
        return (++asked === 1 ? await late.promise : [conversation(6, 3)]) as never;
      }
      if (method === 'presence') return [] as never;
      throw new Error(`unexpected ${method}`);
    });
    const store = makeStore();
    const { onEvent } = store.getState();
    store.setState({ phase: { kind: 'ready', api, session: { ...SESSION, user: null } } });
    // A returning user logs in: the contact list is asked for, and answered late.
    onEvent({ type: 'session', session: SESSION });
    onEvent({ type: 'message', message: message({ id: 6, direction: 'in' }) });
    onEvent({ type: 'message', message: message({ id: 1, direction: 'in', peer: 'carol' }) });
    // The batch is applied and the unread counts re-read, all before the late answer.
    await vi.advanceTimersByTimeAsync(1000);
    expect(asked).toBe(2);
    expect(store.getState().conversations['bob']).toMatchObject({ unread: 3 });

    late.resolve([conversation(5, 2)]);
    await vi.advanceTimersByTimeAsync(1000);
    const { conversations } = store.getState();
    expect(conversations['bob']!.lastMessage!.id).toBe(6);
    expect(conversations['bob']!.unread).toBe(3);
    expect(conversations['carol']!.lastMessage!.id).toBe(1);
    // The stale answer's counts are not trusted: they are asked for again.
    expect(asked).toBe(3);
  });
});

describe('marking read', () => {
  it('queues one call per chat, for the chat still open when its turn comes', async () => {
    const started = deferred<void>();
    const first = deferred<void>();
    const marked: string[] = [];
    const api = host(async (method, params) => {
      if (method !== 'markRead') throw new Error(`unexpected ${method}`);
      marked.push((params as { peer: string }).peer);
      if (marked.length === 1) {
        started.resolve();
        await first.promise;
      }
      return undefined as never;
    });
    // The window is visible and focused.
    const store = makeStore();
    const { openChat, markReadIfViewing } = store.getState();
    store.setState({ phase: { kind: 'ready', api, session: SESSION } });
    const chat = (peer: string): PeerMessages => ({
      list: [message({ id: 1, direction: 'in', peer })],
      loaded: true,
      loading: false,
      complete: true,
      error: null,
    });
    store.setState({ byPeer: { bob: chat('bob'), carol: chat('carol') } });

    openChat('bob');
    await started.promise;
    // Another message for bob while the first markRead is still running.
    void markReadIfViewing();
    openChat('carol');
    first.resolve();
    await markReadIfViewing();

    // bob's queued call is moot (the user left bob); carol's was not dropped.
    expect(marked).toEqual(['bob', 'carol']);
    expect(store.getState().byPeer['carol']!.list[0]!.status).toBe('read');
  });
});

describe('typing', () => {
  it('clears every indicator when the link to the host is lost', () => {
    const { store } = ready(() => []);
    const { onEvent } = store.getState();
    onEvent({ type: 'typing', user: 'bob', typing: true });
    expect(store.getState().typing['bob']).toBe(true);
    // The "stopped" event that the host sends meanwhile never arrives.
    onEvent({ type: 'connection', state: 'offline', detail: HOST_LOST });
    expect(store.getState().typing['bob']).not.toBe(true);
  });
});

describe('toasts', () => {
  it('keeps only the newest few of a burst of different errors', () => {
    const store = makeStore();
    const { onEvent, showToast } = store.getState();
    for (let i = 0; i < 50; i++) onEvent({ type: 'error', code: 'refused', text: `refused ${i}` });
    showToast('one more');
    const texts = store.getState().toasts.map((x) => x.text);
    expect(texts).toHaveLength(MAX_TOASTS);
    expect(texts.at(-1)).toBe('one more');
    expect(texts.at(-2)).toBe('refused 49');
  });
});

describe('sending files', () => {
  it('sends what the host adapter made of each file, showing its upload meanwhile', async () => {
    const sent: unknown[] = [];
    const staged = deferred<{ upload: string }>();
    let progress: ((loaded: number) => void) | null = null;
    const store = makeStore();
    const api: HostClient = {
      ...host(async (method, params) => {
        if (method !== 'sendFile') throw new Error(`unexpected ${method}`);
        sent.push(params);
        return message({ id: 9, direction: 'out' }) as never;
      }),
      stageFile: (_file, options) => {
        progress = options.onProgress;
        return staged.promise;
      },
    };
    store.setState({
      phase: {
        kind: 'ready',
        api,
        session: {
          ...SESSION,
          files: { downloadsDir: '/tmp/d', maxFileBytes: 1000, autoDownloadBytes: 100 },
        },
      },
    });
    const sending = store.getState().sendFiles('bob', [new File(['hello'], 'a.txt')]);
    await vi.waitFor(() => expect(progress).not.toBeNull());
    progress!(3);
    expect(store.getState().uploads).toMatchObject([{ peer: 'bob', name: 'a.txt', loaded: 3 }]);
    staged.resolve({ upload: 'u'.repeat(16) });
    await sending;
    expect(sent).toEqual([{ to: 'bob', upload: 'u'.repeat(16) }]);
    expect(store.getState().uploads).toEqual([]);
    expect(store.getState().byPeer['bob']!.list.map((m) => m.id)).toEqual([9]);
  });

  it('says which file a cancelled upload was, and sends nothing', async () => {
    const store = makeStore();
    const api: HostClient = {
      ...host(async (method) => {
        throw new Error(`unexpected ${method}`);
      }),
      stageFile: (_file, { onProgress, signal }) => {
        onProgress(0);
        return new Promise((_resolve, reject) =>
          signal.addEventListener('abort', () => reject(new StageError({ kind: 'aborted' }))),
        );
      },
    };
    store.setState({
      phase: {
        kind: 'ready',
        api,
        session: {
          ...SESSION,
          files: { downloadsDir: '/tmp/d', maxFileBytes: 1000, autoDownloadBytes: 100 },
        },
      },
    });
    const sending = store.getState().sendFiles('bob', [new File(['hello'], 'a.txt')]);
    await vi.waitFor(() => expect(store.getState().uploads).toHaveLength(1));
    store.getState().cancelUpload(store.getState().uploads[0]!.id);
    await sending;
    expect(store.getState().uploads).toEqual([]);
    expect(store.getState().toasts.map((x) => x.text)).toEqual([
      '“a.txt” was not sent: its upload was stopped',
    ]);
  });
});

describe('stores', () => {
  it('share no state: each has its own toasts and chats', () => {
    const one = makeStore();
    const two = makeStore();
    one.getState().showToast('only here');
    one.getState().setDraft('bob', 'hi');
    expect(two.getState().toasts).toEqual([]);
    expect(two.getState().drafts).toEqual({});
  });
});

describe('a text too long for a message', () => {
  it('goes as a .txt file through the host adapter, its bytes the text in UTF-8', async () => {
    const store = makeStore();
    let staged: File | null = null;
    const api: HostClient = {
      ...host(async (method) => {
        if (method !== 'sendFile') throw new Error(`unexpected ${method}`);
        return message({ id: 3, direction: 'out' }) as never;
      }),
      stageFile: async (file) => {
        staged = file;
        return { upload: 'u'.repeat(16) };
      },
    };
    store.setState({
      phase: {
        kind: 'ready',
        api,
        session: {
          ...SESSION,
          files: { downloadsDir: '/tmp/d', maxFileBytes: 1_000_000, autoDownloadBytes: 100 },
        },
      },
    });
    const text = 'Привет, '.repeat(20_000);
    expect(await store.getState().sendTextAsFile('bob', text)).toBe(true);
    expect(staged!.name).toMatch(/^message-\d{4}-\d{2}-\d{2}-\d{4}\.txt$/);
    expect(staged!.type).toMatch(/^text\/plain/);
    expect(await staged!.text()).toBe(text);
    expect(store.getState().byPeer['bob']!.list.map((m) => m.id)).toEqual([3]);

    // Over the file limit too: refused at once, and nothing is staged.
    staged = null;
    store.getState().patchSession({
      files: { downloadsDir: '/tmp/d', maxFileBytes: 1000, autoDownloadBytes: 100 },
    });
    expect(await store.getState().sendTextAsFile('bob', text)).toBe(false);
    expect(staged).toBeNull();
  });
});

describe('chooseDownloadsDir', () => {
  it('asks the host with no folder, and shows the folder the picker chose', async () => {
    const asked: [string, unknown][] = [];
    const answers = [null, { downloadsDir: '/home/amy/Inbox', maxFileBytes: 1000 }];
    const api = host(async (method, params) => {
      asked.push([method, params]);
      return answers.shift() as never;
    });
    const store = makeStore();
    const files = { downloadsDir: '/tmp/d', maxFileBytes: 1000, autoDownloadBytes: 100 };
    store.setState({ phase: { kind: 'ready', api, session: { ...SESSION, files } } });
    const session = () => (store.getState().phase as { session: SessionView }).session;
    // Cancelled: nothing changes.
    expect(await store.getState().chooseDownloadsDir()).toBeNull();
    expect(session().files).toEqual(files);
    expect(await store.getState().chooseDownloadsDir()).toEqual({
      downloadsDir: '/home/amy/Inbox',
      maxFileBytes: 1000,
    });
    expect(session().files?.downloadsDir).toBe('/home/amy/Inbox');
    expect(asked).toEqual([
      ['chooseDownloadsDir', {}],
      ['chooseDownloadsDir', {}],
    ]);
  });
});
