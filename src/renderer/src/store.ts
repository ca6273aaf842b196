// The renderer's state, in small stores by concern: the host session, the contact list, the
// messages of opened chats, and what the UI shows. Actions sit next to the state they change;
// derived data (sorted contacts, rows, totals) is computed by selectors, never stored twice.
import { SizedCache } from './model/sized-cache.ts';
import { create } from 'zustand';
import type {
  ConnectionState,
  ConversationView,
  MessageView,
  PresenceView,
} from '../../shared/api.ts';
import {
  ApiError,
  HOST_BACK,
  HOST_LOST,
  type FileSettingsView,
  type HostEvent,
  type SessionView,
} from '../../shared/contract.ts';
import { connectApi, type ApiClient, type StrataApi } from './api/index.ts';
import { t, useLanguageStore } from './i18n.ts';
import { mergeConversations } from './model/contacts.ts';
import {
  RateMeter,
  uploadIdOf,
  formatSize,
  isInFlight,
  planSend,
  uploadFailure,
  type UploadFailure,
} from './model/files.ts';
import {
  compareMessages,
  isUnreadIncoming,
  markIncomingRead,
  mergeMessages,
} from './model/messages.ts';

/** Messages asked for per history page. */
export const HISTORY_PAGE = 200;
/** Message events are applied in batches this often at most (a long message arrives as many). */
const EVENT_FLUSH_MS = 16;
/** Unread counts are re-read from the host this long after the last incoming message. */
const UNREAD_REFRESH_MS = 150;
/** Toasts leave by themselves after this long (they can be closed earlier). */
const TOAST_MS = 10_000;
/** At most this many toasts show; a newer one pushes out the oldest. */
export const MAX_TOASTS = 4;

// ---------------------------------------------------------------------------------------------
// Session: the link to the host and who is logged in.

export type Phase =
  | { kind: 'connecting' }
  | { kind: 'failed'; detail: string }
  | { kind: 'ready'; api: StrataApi; session: SessionView };

export const useSessionStore = create<{ phase: Phase }>(() => ({
  phase: { kind: 'connecting' },
}));

function readyPhase(): Extract<Phase, { kind: 'ready' }> | null {
  const phase = useSessionStore.getState().phase;
  return phase.kind === 'ready' ? phase : null;
}

function api(): StrataApi | null {
  return readyPhase()?.api ?? null;
}

function session(): SessionView | null {
  return readyPhase()?.session ?? null;
}

function patchSession(patch: Partial<SessionView>): void {
  const ready = readyPhase();
  if (ready === null) return;
  useSessionStore.setState({ phase: { ...ready, session: { ...ready.session, ...patch } } });
}

// ---------------------------------------------------------------------------------------------
// Contacts: conversations, presence and typing, by user name.

interface ContactsState {
  conversations: Record<string, ConversationView>;
  presence: Record<string, PresenceView>;
  typing: Record<string, boolean>;
  /** Chats started from search that have no message yet. */
  started: string[];
}

export const useContactsStore = create<ContactsState>(() => ({
  conversations: {},
  presence: {},
  typing: {},
  started: [],
}));

// ---------------------------------------------------------------------------------------------
// Messages of the chats opened since start, kept current by events.

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

export const useMessagesStore = create<{ byPeer: Record<string, PeerMessages> }>(() => ({
  byPeer: {},
}));

function peerMessages(peer: string): PeerMessages {
  return useMessagesStore.getState().byPeer[peer] ?? EMPTY_PEER;
}

function setPeerMessages(peer: string, patch: Partial<PeerMessages>): void {
  useMessagesStore.setState((s) => ({
    byPeer: { ...s.byPeer, [peer]: { ...(s.byPeer[peer] ?? EMPTY_PEER), ...patch } },
  }));
}

// ---------------------------------------------------------------------------------------------
// UI: the open chat, drafts, panels, notices.

export interface Toast {
  id: number;
  text: string;
}

/** A file on its way to the browser host (POST /upload), before it is a message. */
export interface Upload {
  id: number;
  peer: string;
  name: string;
  size: number;
  /** Bytes the host has taken so far. */
  loaded: number;
}

interface UiState {
  selected: string | null;
  drafts: Record<string, string>;
  search: string;
  networkOpen: boolean;
  settingsOpen: boolean;
  toasts: Toast[];
  uploads: Upload[];
}

export const useUiStore = create<UiState>(() => ({
  selected: null,
  drafts: {},
  search: '',
  networkOpen: false,
  settingsOpen: false,
  toasts: [],
  uploads: [],
}));

let nextToastId = 1;
const toastTimers = new Map<number, ReturnType<typeof setTimeout>>();

export function showToast(text: string): void {
  // The relay repeats a refusal for every segment it refuses: one notice says it.
  const same = useUiStore.getState().toasts.find((x) => x.text === text);
  if (same !== undefined) dismissToast(same.id);
  // A burst of different errors (a relay refusing every file a peer offers) must not bury the
  // window under notices or keep growing the list.
  for (const old of useUiStore.getState().toasts.slice(0, 1 - MAX_TOASTS)) dismissToast(old.id);
  const id = nextToastId++;
  useUiStore.setState((s) => ({ toasts: [...s.toasts, { id, text }] }));
  toastTimers.set(
    id,
    setTimeout(() => dismissToast(id), TOAST_MS),
  );
}

export function dismissToast(id: number): void {
  const timer = toastTimers.get(id);
  if (timer !== undefined) clearTimeout(timer);
  toastTimers.delete(id);
  useUiStore.setState((s) => ({ toasts: s.toasts.filter((x) => x.id !== id) }));
}

export function setDraft(peer: string, text: string): void {
  useUiStore.setState((s) => ({ drafts: { ...s.drafts, [peer]: text } }));
}

export function setSearch(search: string): void {
  useUiStore.setState({ search });
}

export function toggleNetwork(open?: boolean): void {
  useUiStore.setState((s) => ({ networkOpen: open ?? !s.networkOpen }));
}

export function setSettingsOpen(settingsOpen: boolean): void {
  useUiStore.setState({ settingsOpen });
}

/** What a failed call tells the user. */
export function describeError(e: unknown): string {
  if (e instanceof ApiError) {
    if (e.code === 'unreachable') return t('error.hostUnreachable', { detail: e.message });
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------------------------
// Start: reach the host, learn the session, follow its events.

/** The client in use and its event subscription. */
let link: { client: ApiClient; unsubscribe: () => void } | null = null;
let booting: Promise<void> | null = null;

function dropLink(): void {
  link?.unsubscribe();
  // A client left open keeps reconnecting to the host for nothing.
  link?.client.close();
  link = null;
}

/**
 * Reaches the host, learns the session and follows its events. A call while a start is under
 * way joins it (development's StrictMode runs effects twice), and once ready it does nothing.
 */
export function boot(): Promise<void> {
  if (readyPhase() !== null) return Promise.resolve();
  booting ??= start().finally(() => {
    booting = null;
  });
  return booting;
}

async function start(): Promise<void> {
  useSessionStore.setState({ phase: { kind: 'connecting' } });
  dropLink();
  try {
    const client = await connectApi();
    // Subscribe before asking, so that nothing that happens in between is missed.
    link = { client, unsubscribe: client.subscribe(onEvent) };
    const current = await client.call('session', {});
    useSessionStore.setState({ phase: { kind: 'ready', api: client, session: current } });
    if (current.user !== null) await loadContacts();
  } catch (e) {
    dropLink();
    // The screen already says the host cannot be reached: the detail says why.
    useSessionStore.setState({
      phase: { kind: 'failed', detail: e instanceof Error ? e.message : String(e) },
    });
  }
}

/** Logs in; throws ApiError for the login form to show. */
export async function login(user: string, relayUrl: string): Promise<void> {
  const client = api();
  if (client === null) throw new ApiError('unreachable', t('connect.lost'));
  const next = await client.call('login', { user, relayUrl });
  onSession(next);
}

function onSession(next: SessionView): void {
  const before = session();
  const ready = readyPhase();
  if (ready === null) return;
  useSessionStore.setState({ phase: { ...ready, session: next } });
  if (next.user !== null && before?.user !== next.user) {
    if (before !== null && before.user !== null) {
      // Another user in the same window: nothing of the previous one may show.
      useContactsStore.setState({ conversations: {}, presence: {}, typing: {}, started: [] });
      useMessagesStore.setState({ byPeer: {} });
      useUiStore.setState({ selected: null, drafts: {}, search: '' });
    }
    void loadContacts();
  }
}

async function loadContacts(): Promise<void> {
  const client = api();
  if (client === null) return;
  try {
    const [conversations, presence] = await Promise.all([
      client.call('conversations', {}),
      client.call('presence', {}),
    ]);
    // Message events applied while this was on its way are newer than the answer.
    const merged = mergeConversations(useContactsStore.getState().conversations, conversations);
    useContactsStore.setState({
      conversations: merged.conversations,
      presence: Object.fromEntries(presence.map((p) => [p.user, p])),
    });
    if (merged.stale.length > 0) scheduleUnreadRefresh();
  } catch (e) {
    showToast(t('error.loadContacts', { detail: describeError(e) }));
  }
}

/** The host came back after its link dropped: catch up with what changed meanwhile. */
async function resync(): Promise<void> {
  const client = api();
  if (client === null) return;
  try {
    onSession(await client.call('session', {}));
  } catch {
    return; // the link dropped again; the next reconnect retries
  }
  await loadContacts();
  // Events were missed while the link was down: chats not on screen load afresh when opened.
  const peer = useUiStore.getState().selected;
  useMessagesStore.setState((s) => ({
    byPeer: peer !== null && s.byPeer[peer] !== undefined ? { [peer]: s.byPeer[peer] } : {},
  }));
  if (peer !== null) await loadNewest(peer);
}

// ---------------------------------------------------------------------------------------------
// Events.

let pendingMessages: MessageView[] = [];
let flushTimer: ReturnType<typeof setTimeout> | null = null;

export function onEvent(event: HostEvent): void {
  switch (event.type) {
    case 'message':
      sampleTransfer(event.message);
      pendingMessages.push(event.message);
      flushTimer ??= setTimeout(flushMessages, EVENT_FLUSH_MS);
      return;
    case 'presence':
      useContactsStore.setState((s) => ({
        presence: { ...s.presence, [event.presence.user]: event.presence },
      }));
      return;
    case 'typing':
      useContactsStore.setState((s) => ({ typing: { ...s.typing, [event.user]: event.typing } }));
      return;
    case 'connection':
      onConnection(event.state, event.detail ?? null);
      return;
    case 'session':
      onSession(event.session);
      return;
    case 'error':
      showToast(event.text);
      return;
    case 'stats':
      return; // the network view polls for its numbers
  }
}

function onConnection(state: ConnectionState, detail: string | null): void {
  patchSession({ connection: state, connectionDetail: detail });
  // The host's "stopped typing" events are lost with its link: no indicator may outlive it (a
  // peer still typing refreshes theirs within seconds once the link is back).
  if (detail === HOST_LOST) useContactsStore.setState({ typing: {} });
  if (detail === HOST_BACK) void resync();
}

function flushMessages(): void {
  flushTimer = null;
  const batch = pendingMessages;
  pendingMessages = [];
  applyMessages(batch, 'batch');
  if (batch.some((m) => m.direction === 'in')) scheduleUnreadRefresh();
}

/** Puts messages into opened chats and the contact list's previews. */
function applyMessages(batch: readonly MessageView[], newer: 'batch' | 'list'): void {
  const byPeer = new Map<string, MessageView[]>();
  for (const m of batch) byPeer.set(m.peer, [...(byPeer.get(m.peer) ?? []), m]);

  const lists = useMessagesStore.getState().byPeer;
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
  if (listsChanged) useMessagesStore.setState({ byPeer: nextLists });

  useContactsStore.setState((s) => {
    const conversations = { ...s.conversations };
    for (const [peer, messages] of byPeer) {
      const lastInList = nextLists[peer]?.list.at(-1);
      const newest = messages.reduce((a, b) => (compareMessages(a, b) >= 0 ? a : b));
      const conversation = conversations[peer] ?? {
        peer,
        lastMessage: null,
        unread: 0,
        presence: s.presence[peer] ?? null,
      };
      const preview =
        lastInList ??
        (conversation.lastMessage === null || compareMessages(newest, conversation.lastMessage) >= 0
          ? newest
          : conversation.lastMessage);
      conversations[peer] = { ...conversation, lastMessage: preview };
    }
    return { conversations };
  });
  void markReadIfViewing();
}

// Unread counts come from the host (it alone knows what was read before this window opened);
// bursts of incoming messages cost one request, and a request never overlaps another.
let unreadTimer: ReturnType<typeof setTimeout> | null = null;
let unreadInFlight = false;
let unreadAgain = false;

function scheduleUnreadRefresh(): void {
  if (unreadTimer !== null) clearTimeout(unreadTimer);
  unreadTimer = setTimeout(() => {
    unreadTimer = null;
    void refreshUnread();
  }, UNREAD_REFRESH_MS);
}

async function refreshUnread(): Promise<void> {
  const client = api();
  if (client === null) return;
  if (unreadInFlight) {
    unreadAgain = true;
    return;
  }
  unreadInFlight = true;
  try {
    await markReadInFlight;
    const fresh = await client.call('conversations', {});
    // An event newer than this answer may already have updated the preview.
    useContactsStore.setState((s) => ({
      conversations: mergeConversations(s.conversations, fresh).conversations,
    }));
    void markReadIfViewing();
  } catch {
    // The link is down; the next message or reconnect refreshes again.
  } finally {
    unreadInFlight = false;
    if (unreadAgain) {
      unreadAgain = false;
      scheduleUnreadRefresh();
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Reading: messages count as read when their chat is open in a visible, focused window.

let markReadInFlight: Promise<void> = Promise.resolve();
/** Chats with a markRead waiting behind the one running (one each is enough). */
const markReadQueued = new Set<string>();

function windowIsActive(): boolean {
  return document.visibilityState === 'visible' && document.hasFocus();
}

export function markReadIfViewing(): Promise<void> {
  const peer = useUiStore.getState().selected;
  const client = api();
  if (peer === null || client === null || !windowIsActive()) return markReadInFlight;
  const unread =
    (useContactsStore.getState().conversations[peer]?.unread ?? 0) > 0 ||
    peerMessages(peer).list.some(isUnreadIncoming);
  if (!unread || markReadQueued.has(peer)) return markReadInFlight;
  markReadQueued.add(peer);
  markReadInFlight = markReadInFlight.then(async () => {
    markReadQueued.delete(peer);
    // The user may have left the chat (or the window) while this waited its turn.
    if (useUiStore.getState().selected !== peer || !windowIsActive()) return;
    try {
      await client.call('markRead', { peer });
    } catch {
      return; // still unread; the next message or focus tries again
    }
    // The host marked them read but sends no event for it: mirror it here.
    const current = useMessagesStore.getState().byPeer[peer];
    if (current !== undefined) {
      const list = markIncomingRead(current.list);
      if (list !== current.list) setPeerMessages(peer, { list });
    }
    useContactsStore.setState((s) => {
      const c = s.conversations[peer];
      if (c === undefined) return s;
      const lastMessage =
        c.lastMessage !== null && isUnreadIncoming(c.lastMessage)
          ? { ...c.lastMessage, status: 'read' as const }
          : c.lastMessage;
      return { conversations: { ...s.conversations, [peer]: { ...c, unread: 0, lastMessage } } };
    });
  });
  return markReadInFlight;
}

// ---------------------------------------------------------------------------------------------
// Chats.

export function openChat(peer: string): void {
  const ui = useUiStore.getState();
  if (ui.selected === peer) {
    // Selecting the open chat again is how one asks again for a first page that failed.
    retryFirstPage(peer);
    return;
  }
  const contacts = useContactsStore.getState();
  if (
    contacts.conversations[peer] === undefined &&
    contacts.presence[peer] === undefined &&
    !contacts.started.includes(peer)
  ) {
    useContactsStore.setState({ started: [...contacts.started, peer] });
  }
  useUiStore.setState({ selected: peer });
  if (!peerMessages(peer).loaded) void loadNewest(peer);
  else void markReadIfViewing();
}

export function closeChat(): void {
  useUiStore.setState({ selected: null });
}

/** Asks again for a chat's first page if it failed (its retry button, or selecting it again). */
export function retryFirstPage(peer: string): void {
  const current = peerMessages(peer);
  if (current.loaded || current.loading) return;
  void loadNewest(peer);
}

/** The newest page: on first open, and after the host's link comes back. */
async function loadNewest(peer: string): Promise<void> {
  const client = api();
  if (client === null) return;
  const first = !peerMessages(peer).loaded;
  setPeerMessages(peer, { loading: true, error: null });
  try {
    const page = await client.call('history', { peer, limit: HISTORY_PAGE });
    const known = new Set(peerMessages(peer).list.map((m) => m.key));
    const oldest = page[0];
    if (!first && page.length === HISTORY_PAGE && oldest !== undefined && !known.has(oldest.key)) {
      // More arrived while away than one page holds: a gap would lie between the list and
      // this page, so the page replaces the list and older ones load on scrolling up.
      const newest = page[page.length - 1]!;
      setPeerMessages(peer, {
        list: peerMessages(peer).list.filter((m) => compareMessages(m, newest) > 0),
        complete: false,
      });
    }
    // Events that arrived while this was on its way are newer than the page.
    applyMessages(page, 'list');
    setPeerMessages(peer, {
      loaded: true,
      loading: false,
      ...(first ? { complete: page.length < HISTORY_PAGE } : {}),
    });
  } catch (e) {
    setPeerMessages(peer, { loading: false, error: describeError(e) });
  }
}

/**
 * The page before the oldest message shown (the list keeps its scroll position). After a
 * failure only an explicit `retry` asks again: the list asks on every change of its state, so
 * it would otherwise re-ask in a tight loop for as long as the host stays unreachable.
 */
export async function loadOlder(peer: string, { retry = false } = {}): Promise<void> {
  const client = api();
  const current = peerMessages(peer);
  const oldest = current.list[0];
  if (client === null || current.loading || current.complete || !current.loaded) return;
  if (current.error !== null && !retry) return;
  if (oldest === undefined) return;
  setPeerMessages(peer, { loading: true, error: null });
  try {
    const page = await client.call('history', { peer, before: oldest.key, limit: HISTORY_PAGE });
    applyMessages(page, 'list');
    setPeerMessages(peer, { loading: false, complete: page.length < HISTORY_PAGE });
  } catch (e) {
    setPeerMessages(peer, { loading: false, error: describeError(e) });
  }
}

/** Sends a text; the pending message shows at once. Throws for the composer to keep the text. */
export async function sendText(peer: string, text: string): Promise<void> {
  const client = api();
  if (client === null) throw new ApiError('unreachable', t('connect.lost'));
  const view = await client.call('send', { to: peer, text });
  // Into the list even if the chat's first page is still on its way.
  if (useMessagesStore.getState().byPeer[peer] === undefined) setPeerMessages(peer, {});
  applyMessages([view], 'batch');
}

export async function retryMessage(key: string): Promise<void> {
  const client = api();
  if (client === null) return;
  try {
    if (!(await client.call('retry', { key }))) showToast(t('error.retryRefused'));
  } catch (e) {
    showToast(describeError(e));
  }
}

export function setTyping(peer: string, typing: boolean): void {
  // Best effort: a lost typing notice only means a missing indicator.
  api()
    ?.call('setTyping', { peer, typing })
    .catch(() => undefined);
}

// ---------------------------------------------------------------------------------------------
// Files: sending picked or dropped files, controlling them, and how fast they move.

export interface TransferRate {
  bytesPerSecond: number | null;
  secondsLeft: number | null;
}

/** Speed and time left of the files in flight, by message key (both directions). */
export const useTransferRatesStore = create<{ byKey: Record<string, TransferRate> }>(() => ({
  byKey: {},
}));

const meters = new Map<string, RateMeter>();

/** Feeds a file message's progress to its meter; the meter goes when the file stops moving. */
function sampleTransfer(m: MessageView): void {
  const file = m.file;
  if (file === null) return;
  const moving = isInFlight(file.state) && file.state !== 'paused' && file.state !== 'verifying';
  if (!moving) {
    // A paused file's next rate starts afresh on resume, not from the long pause.
    if (meters.delete(m.key)) {
      useTransferRatesStore.setState((s) => {
        const { [m.key]: _gone, ...rest } = s.byKey;
        return { byKey: rest };
      });
    }
    return;
  }
  let meter = meters.get(m.key);
  if (meter === undefined) {
    meter = new RateMeter();
    meters.set(m.key, meter);
  }
  meter.sample(performance.now(), file.bytesDone);
  const rate: TransferRate = {
    bytesPerSecond: meter.bytesPerSecond,
    secondsLeft: file.size === null ? null : meter.secondsLeft(file.size),
  };
  useTransferRatesStore.setState((s) => ({ byKey: { ...s.byKey, [m.key]: rate } }));
}

/** What the Electron preload offers for files (absent in a browser). */
function pathOfFile(file: File): string | null {
  const files = window.strataFiles;
  if (files === undefined) return null;
  try {
    return files.pathForFile(file);
  } catch {
    return null;
  }
}

let nextUploadId = 1;
/** Ongoing uploads' abort functions, by upload id (the store holds data only). */
const uploadAborts = new Map<number, () => void>();

function setUpload(id: number, patch: Partial<Upload> | null): void {
  useUiStore.setState((s) => ({
    uploads:
      patch === null
        ? s.uploads.filter((u) => u.id !== id)
        : s.uploads.map((u) => (u.id === id ? { ...u, ...patch } : u)),
  }));
}

class UploadError extends Error {
  override name = 'UploadError';
  readonly failure: UploadFailure | { kind: 'aborted' };
  constructor(failure: UploadFailure | { kind: 'aborted' }) {
    super(failure.kind);
    this.failure = failure;
  }
}

/**
 * Streams a file to the browser host (same origin: its cookie carries the token) and resolves
 * with the upload's id. XMLHttpRequest, not fetch, because only it reports upload progress.
 */
function upload(
  file: File,
  onProgress: (loaded: number) => void,
  onAbort: (abort: () => void) => void,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open('POST', '/upload');
    xhr.setRequestHeader('X-File-Name', encodeURIComponent(file.name));
    xhr.responseType = 'text';
    xhr.upload.onprogress = (e) => onProgress(e.loaded);
    xhr.onload = () => {
      if (xhr.status >= 200 && xhr.status < 300) {
        const id = uploadIdOf(xhr.responseText);
        if (id !== null) resolve(id);
        else
          reject(
            new UploadError({
              kind: 'other',
              status: xhr.status,
              detail: t('file.badUploadReply'),
            }),
          );
        return;
      }
      reject(new UploadError(uploadFailure(xhr.status, xhr.responseText)));
    };
    xhr.onerror = () => reject(new UploadError({ kind: 'network' }));
    xhr.onabort = () => reject(new UploadError({ kind: 'aborted' }));
    onAbort(() => xhr.abort());
    xhr.send(file);
  });
}

function describeFileError(name: string, e: unknown): string {
  if (e instanceof UploadError) {
    const f = e.failure;
    switch (f.kind) {
      case 'tooLarge':
        return t('file.uploadTooLarge', { name });
      case 'diskFull':
        return t('file.uploadDiskFull', { name });
      case 'network':
        return t('file.uploadNetwork', { name });
      case 'aborted':
        return t('file.uploadCancelled', { name });
      case 'other':
        return t('file.sendFailed', { name, detail: f.detail || String(f.status) });
    }
  }
  return t('file.sendFailed', { name, detail: describeError(e) });
}

/**
 * Sends picked or dropped files to `peer`, one after another in the order given: each shows as
 * a message as soon as the host has taken it. Files over the size limit are refused at once,
 * and each failure is a toast that names its file.
 */
export async function sendFiles(peer: string, files: readonly File[]): Promise<void> {
  const current = session();
  const client = api();
  if (current === null || client === null) {
    showToast(t('connect.lost'));
    return;
  }
  if (current.files === null) {
    showToast(t('file.notReady'));
    return;
  }
  const language = useLanguageStore.getState().language;
  const plan = planSend(files, current.files.maxFileBytes);
  for (const f of plan.tooLarge) {
    showToast(
      t('file.tooLarge', {
        name: f.name,
        size: formatSize(f.size, language),
        max: formatSize(current.files.maxFileBytes, language),
      }),
    );
  }
  for (const file of plan.send) {
    try {
      let view: MessageView;
      if (current.host === 'electron') {
        const path = pathOfFile(file);
        if (path === null) {
          showToast(t('file.noPath', { name: file.name }));
          continue;
        }
        view = await client.call('sendFile', { to: peer, path });
      } else {
        const id = nextUploadId++;
        useUiStore.setState((s) => ({
          uploads: [...s.uploads, { id, peer, name: file.name, size: file.size, loaded: 0 }],
        }));
        let uploadId: string;
        try {
          uploadId = await upload(
            file,
            (loaded) => setUpload(id, { loaded }),
            (abort) => uploadAborts.set(id, abort),
          );
        } finally {
          uploadAborts.delete(id);
          setUpload(id, null);
        }
        view = await client.call('sendFile', { to: peer, upload: uploadId });
      }
      if (useMessagesStore.getState().byPeer[peer] === undefined) setPeerMessages(peer, {});
      applyMessages([view], 'batch');
    } catch (e) {
      showToast(describeFileError(file.name, e));
    }
  }
}

/** Stops an upload still on its way to the browser host (its file is then not sent). */
export function cancelUpload(id: number): void {
  uploadAborts.get(id)?.();
}

export async function controlFile(
  key: string,
  action: 'pause' | 'resume' | 'cancel',
): Promise<void> {
  const client = api();
  if (client === null) return;
  try {
    if (!(await client.call('controlFile', { key, action }))) {
      showToast(t('file.controlRefused'));
    }
  } catch (e) {
    showToast(describeError(e));
  }
}

/**
 * Previews by message key, as data URLs (null: none), least recently used first; bounded by
 * their total length, so a history of large photos keeps a few of them, not all.
 */
const previews = new SizedCache<string | null>(32 * 1024 * 1024, (url) => url?.length ?? 0);
/** Previews on their way, so that two bubbles of one message ask once. */
const previewsLoading = new Map<string, Promise<string | null>>();

/**
 * A finished image's preview as a data URL (its bytes through the API, in either host), or
 * null when it has none; remembered so that scrolling back does not fetch it again.
 */
export function loadFilePreview(key: string): Promise<string | null> {
  if (previews.has(key)) return Promise.resolve(previews.get(key)!);
  let loading = previewsLoading.get(key);
  if (!loading) {
    loading = fetchFilePreview(key).finally(() => previewsLoading.delete(key));
    previewsLoading.set(key, loading);
  }
  return loading;
}

async function fetchFilePreview(key: string): Promise<string | null> {
  const client = api();
  if (client === null) return null;
  let url: string | null;
  try {
    const preview = await client.call('filePreview', { key });
    url = preview === null ? null : `data:${preview.type};base64,${preview.base64}`;
  } catch {
    // No preview is no loss: the bubble shows the file's icon and name instead (and may
    // ask again later).
    return null;
  }
  previews.set(key, url);
  return url;
}

/** Electron: opens a finished file, or shows it in its folder. */
export async function openFile(key: string, reveal: boolean): Promise<void> {
  const client = api();
  if (client === null) return;
  try {
    await client.call('openFile', reveal ? { key, reveal } : { key });
  } catch (e) {
    showToast(t('file.openFailed', { detail: describeError(e) }));
  }
}

/** Saves the downloads folder or the size limit; throws ApiError for the form to show. */
export async function updateFileSettings(
  patch: Partial<FileSettingsView>,
): Promise<FileSettingsView> {
  const client = api();
  if (client === null) throw new ApiError('unreachable', t('connect.lost'));
  const saved = await client.call('updateFileSettings', { patch });
  patchSession({ files: saved });
  return saved;
}
