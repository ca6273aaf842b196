// The engine: one profile directory, one relay, the transport and the application layer.
// The desktop app, the browser host, the command-line client, the tests and the benchmarks
// all embed this same class and speak to it through the contract in src/shared/api.ts.
import { EventEmitter } from 'node:events';
import type {
  AccountView,
  ContactState,
  ConversationView,
  DeviceView,
  LinkCodeView,
  MessageView,
  MessengerEvent,
  NoticeView,
  PresenceView,
  SafetyNumberView,
  TransportSettings,
  TransportStats,
} from '../shared/api.ts';
import type { SegmentLogEntry, UserLookupView } from '../shared/contract.ts';
import { isValidUserName, type Frame } from '../shared/protocol/index.ts';
import { RelayConnection, type HeartbeatOptions } from './connection.ts';
import { lookupUser, PresenceBook } from './presence.ts';
import { deleteConversationRows, unfinishedIncomingFiles } from './conversations.ts';
import {
  closeDatabase,
  openDatabase,
  saveMeta,
  statementCache,
  type Db,
} from './store/database.ts';
import type { MessageClock } from './transport/message-clock.ts';
import { KIND_TEXT, MessageViews, parseKey } from './message-views.ts';
import { Transport, type MessageKey } from './transport/transport.ts';
import { join } from 'node:path';
import { FileError, FileTransfers, type FileSettings } from './files/transfers.ts';
import { IncomingFiles } from './files/incoming.ts';
import { fileStreams } from './files/source.ts';
import { MessengerError } from './errors.ts';
import { checkFileSettings, checkSettings } from './settings.ts';
import { loadProfile, type Profile } from './profile.ts';
import { KeyedThrottle } from './throttle.ts';
import { AccountBook } from './account.ts';
import { SafetyBook } from './safety.ts';
import { linkProfile, recoverProfile } from './account-flows.ts';
import { profilePins } from './relay-pin.ts';
import { EndToEnd } from './crypto/end-to-end.ts';
import { onRelayError } from './relay-errors.ts';
import { TypingBook } from './typing.ts';
import type { ContentCipher } from './crypto/content.ts';
import { ContactBook } from './contacts.ts';
import { Consent, type ContactAction } from './consent.ts';
import { FileAdmission } from './files/admission.ts';

export { MessengerError } from './errors.ts';
export { DEFAULT_MAX_FILE_BYTES, DEFAULT_SETTINGS, checkSettings } from './settings.ts';

/** The shortest interval between two `stats` events for one peer. */
export const STATS_EVENT_MS = 250;
/** How long quitting waits for the acks of segments in flight (Transport.drain). */
export const CLOSE_DRAIN_MS = 1000;

export interface MessengerOptions {
  profileDir: string;
  relayUrl: string;
  /** Required the first time a profile is used; must match the profile afterwards. */
  user?: string;
  /** How the account's device list names this device, when the profile is made. */
  deviceName?: string;
  settings?: Partial<TransportSettings>;
  /** Where received files go (saved in the profile); default: the system's Downloads/Strata. */
  downloadsDir?: string;
  maxFileBytes?: number;
  autoDownloadBytes?: number;
  /** The relay link's heartbeat (DEFAULT_HEARTBEAT); tests shorten it. */
  heartbeat?: HeartbeatOptions;
  /** Allows plain ws:// to a relay on another machine (relay-pin.ts). */
  insecure?: boolean;
  /**
   * Benchmarks only: `copy` replaces the content cipher by a copy, to measure what the
   * cipher costs (the Signal sessions still run). Not offered by any command.
   */
  contentCipher?: ContentCipher;
}

export class Messenger extends EventEmitter<{ event: [MessengerEvent] }> {
  readonly user: string;
  readonly device: number;
  readonly relayUrl: string;
  private readonly db: Db;
  private readonly sql: ReturnType<typeof statementCache>;
  private readonly conn: RelayConnection;
  private readonly transport: Transport;
  private readonly clock: MessageClock;
  private readonly files: FileTransfers;
  private readonly views: MessageViews;
  private readonly incomingFiles: IncomingFiles;
  private readonly typing: TypingBook;
  private settingsValue: TransportSettings;
  /** Why the relay refused a message, by message key. */
  private readonly refusals = new Map<string, string>();
  private readonly peers: PresenceBook;
  private readonly accounts: AccountBook;
  private readonly e2e: EndToEnd;
  private readonly safety: SafetyBook;
  private readonly contacts: ContactBook;
  private readonly consent: Consent;
  private closed = false;

  private constructor(
    db: Db,
    profile: Profile,
    relayUrl: string,
    profileDir: string,
    heartbeat?: HeartbeatOptions,
    insecure = false,
    cipher: ContentCipher = 'aes-256-gcm',
  ) {
    super();
    const { user, device, settings, fileSettings } = profile;
    this.db = db;
    this.sql = statementCache(db);
    this.user = user;
    this.device = device;
    this.relayUrl = relayUrl;
    this.settingsValue = settings;
    this.clock = profile.clock;
    this.conn = new RelayConnection(relayUrl, (c) => this.accounts.hello(c), undefined, heartbeat, {
      pins: profilePins(db),
      insecure,
    });
    this.accounts = new AccountBook(db, profile, this.conn, (e) => {
      this.emit('event', e);
      // A contact's new identity may be what a message waits for to be opened.
      if (e.type === 'identity-changed') this.e2e.retry();
    });
    this.safety = new SafetyBook(db, profile, this.accounts, () => this.conn.isOnline);
    this.typing = new TypingBook(
      (peer, typing) => this.e2e.typing(peer, typing),
      (e) => this.emit('event', e),
      (u) => this.contacts.blocked(u),
    );
    this.contacts = new ContactBook(db, user);
    this.peers = new PresenceBook(
      db,
      { user, device },
      this.conn,
      (u) => this.accounts.learn(u),
      (u) => this.consent.follows(u),
    );
    // End to end: every message is sealed for its devices before it leaves and opened once
    // here (src/core/crypto); the relay and the channel carry ciphertext only.
    this.e2e = new EndToEnd(db, profile, this.accounts, cipher, () =>
      this.emit('event', { type: 'account', account: this.accounts.view() }),
    );
    // Files stream through the transport: their bytes come from disk and go to partial files.
    this.incomingFiles = new IncomingFiles(db, {
      partialDir: join(profileDir, 'partial'),
      maxFileBytes: fileSettings.maxFileBytes,
      admission: new FileAdmission(db, {
        accepted: (u) => this.contacts.accepted(u),
        autoDownloadBytes: () => this.files.settings.autoDownloadBytes,
      }),
    });
    this.transport = new Transport(db, this.conn, { user, device }, settings, undefined, {
      source: this.e2e.source(fileStreams),
      sink: this.e2e.sink(this.incomingFiles),
      sealed: true,
      blocked: (u) => this.contacts.blocked(u),
    });
    this.e2e.attach(this.transport, this.incomingFiles, this.clock, {
      conn: this.conn,
      typing: this.typing,
      blocked: (peer) => this.safety.blocked(peer),
      changed: (key) => this.emitMessage(key),
      failed: (key, reason) => {
        const message = `${key.author}/${key.authorDevice}/${key.id}`;
        this.refusals.set(message, reason);
        this.transport.setStatus(key, 'failed');
        this.emit('event', { type: 'error', code: 'unknownRecipient', text: reason, message });
      },
    });
    this.files = new FileTransfers(
      db,
      this.transport,
      this.incomingFiles,
      { user, device },
      fileSettings,
      (key) => this.emitMessage(key),
      () => this.conn.isOnline,
    );
    this.views = new MessageViews(this.sql, this.files, this.transport);
    this.consent = new Consent(db, {
      contacts: this.contacts,
      files: this.files,
      peers: this.peers,
      sendReceipt: (peer, device, ids) => this.transport.sendReceipt(peer, device, ids, 'read'),
      changed: (peer) =>
        this.emit('event', { type: 'contact', user: peer, contact: this.contacts.state(peer) }),
    });
    this.transport.on('fileFailed', (key, reason) => {
      this.refusals.set(`${key.author}/${key.authorDevice}/${key.id}`, reason);
      this.emit('event', {
        type: 'error',
        code: 'fileFailed',
        text: reason,
        message: `${key.author}/${key.authorDevice}/${key.id}`,
      });
    });
    this.transport.on('fileWriteFailed', (_key, reason) => {
      this.emit('event', {
        type: 'error',
        code: 'fileWriteFailed',
        text: `cannot write a received file: ${reason}`,
      });
    });
    this.transport.on('changed', (key) => {
      // A message that came whole is opened (a no-op for everything else), starting first.
      if (key.author !== user || key.authorDevice !== device) this.e2e.kick();
      this.emitMessage(key);
    });
    this.transport.on('stats', (peer) => this.statsEvents.changed(peer));
    this.conn.on('online', () => {
      this.accounts.onWelcome();
      this.e2e.online();
      this.peers.connected();
      this.emit('event', { type: 'connection', state: 'online' });
      this.transport.onOnline();
      this.files.online();
    });
    let refusal: string | null = null;
    this.conn.on('refused', (code, text) => {
      refusal = this.accounts.onRefused(code, text);
      this.emit('event', { type: 'error', code, text: refusal });
    });
    this.conn.on('offline', (why) => {
      this.transport.onOffline();
      this.accounts.onOffline();
      this.emit('event', { type: 'connection', state: 'offline', detail: refusal ?? why });
    });
    this.conn.on('frame', (frame) => this.onFrame(frame));
  }

  /** Opens (or creates) a profile. Does not connect yet: call `start()`. */
  static open(options: MessengerOptions): Messenger {
    const db = openDatabase(options.profileDir);
    try {
      const profile = loadProfile(db, options);
      return new Messenger(
        db,
        profile,
        options.relayUrl,
        options.profileDir,
        options.heartbeat,
        options.insecure,
        options.contentCipher,
      );
    } catch (e) {
      void closeDatabase(db);
      throw e;
    }
  }

  /** Joins the account whose device shows a link code (account-flows.ts); then open(). */
  static link = linkProfile;
  /** Takes an account back with its recovery code (account-flows.ts); then open(). */
  static recover = recoverProfile;

  /** Connects to the relay (and keeps reconnecting) and resumes unfinished transfers. */
  start(): void {
    this.emit('event', { type: 'connection', state: 'connecting' });
    this.transport.start();
    this.files.start();
    this.conn.start();
    // What was accepted but not sealed, or received but not opened, before a stop.
    this.e2e.kick();
  }

  get online(): boolean {
    return this.conn.isOnline;
  }

  /** Why the engine stopped trying to reach the relay for good (its certificate changed). */
  get connectionFailure(): string | null {
    return this.conn.failure;
  }

  /** The SHA-256 of the relay's TLS certificate once accepted; null for plain ws://. */
  get relayFingerprint(): string | null {
    return this.conn.fingerprint;
  }

  /** Settles once the engine's background threads have started (see BackgroundCheckpoints). */
  whenSettled(): Promise<void> {
    return this.db.checkpoints?.ready ?? Promise.resolve();
  }

  /**
   * The transport's counters change with every acknowledgement, a thousand times a second in a
   * file transfer: a `stats` event goes at once, then at most every STATS_EVENT_MS per peer
   * while they keep changing, and once more with the last values.
   */
  private readonly statsEvents = new KeyedThrottle(STATS_EVENT_MS, (peer) =>
    this.emit('event', { type: 'stats', stats: this.stats(peer) }),
  );

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.typing.close();
    this.statsEvents.stop();
    // Let the segments in flight be acknowledged, so that the next start does not resend them.
    await this.transport.drain(CLOSE_DRAIN_MS);
    await this.e2e.close(CLOSE_DRAIN_MS);
    this.files.close();
    this.accounts.close();
    this.transport.close();
    await this.conn.stop();
    saveMeta(this.db, 'clock', String(this.clock.current));
    await closeDatabase(this.db);
  }

  // ---------------------------------------------------------------------------------------
  // Commands

  /** Accepts a text message for `to`: it is durable when this returns (status pending). */
  send(to: string, text: string): MessageView {
    if (!isValidUserName(to)) throw new MessengerError(`"${to}" is not a valid user name`);
    this.safety.requireSendable(to);
    const utf8 = new TextEncoder().encode(text);
    const body = new Uint8Array(1 + utf8.length);
    body[0] = KIND_TEXT;
    body.set(utf8, 1);
    this.consent.wroteTo(to);
    this.peers.watch(to);
    const id = this.clock.next(Date.now());
    const key = this.transport.accept(to, id, body);
    this.e2e.kick();
    this.typing.set(to, false);
    const view = this.views.view(key)!;
    this.emit('event', { type: 'message', message: view });
    return view;
  }

  /**
   * Sends a file: it is hashed first (the receiver checks the SHA-256), then its segments are
   * read from disk as they go out. Durable once this resolves (status pending).
   */
  async sendFile(to: string, path: string): Promise<MessageView> {
    if (!isValidUserName(to)) throw new MessengerError(`"${to}" is not a valid user name`);
    let described;
    try {
      described = await this.files.describe(path);
    } catch (e) {
      if (e instanceof FileError) throw new MessengerError(e.message);
      throw e;
    }
    if (this.closed) throw new MessengerError('the messenger is closed');
    this.safety.requireSendable(to); // after hashing: the number may have changed meanwhile
    this.consent.wroteTo(to);
    this.peers.watch(to);
    const id = this.clock.next(Date.now());
    const key = this.files.submit(to, id, path, described, this.settingsValue.segmentSize);
    this.e2e.kick();
    const view = this.views.view(key)!;
    this.emit('event', { type: 'message', message: view });
    return view;
  }

  /** Pauses, resumes or cancels a file in flight (see FileTransfers.control). */
  controlFile(key: string, action: 'pause' | 'resume' | 'cancel'): boolean {
    const k = parseKey(key);
    return k !== null && this.files.control(k, action);
  }

  /** Downloads an incoming file that waits for a click (over the auto-download size). */
  downloadFile(key: string): void {
    this.consent.download(parseKey(key), key);
  }
  /** Accepts a message request, blocks or unblocks `peer` (consent.ts); their state after. */
  setContact(peer: string, action: ContactAction): ContactState {
    return this.consent.apply(peer, action);
  }

  /** The file of a message on this machine (source or saved file), or null. */
  filePath(key: string): string | null {
    const view = this.message(key);
    return view?.file?.path ?? null;
  }

  get fileSettings(): FileSettings {
    return { ...this.files.settings };
  }

  updateFileSettings(patch: Partial<FileSettings>): FileSettings {
    const next = { ...this.files.settings, ...patch };
    checkFileSettings(next);
    saveMeta(this.db, 'files', JSON.stringify(next));
    this.files.settings = next;
    this.incomingFiles.maxFileBytes = next.maxFileBytes;
    return { ...next };
  }

  retry(key: string): boolean {
    this.refusals.delete(key);
    const k = parseKey(key);
    if (!k || k.author !== this.user || k.authorDevice !== this.device) return false;
    return this.e2e.reseal(k) || this.files.retry(k);
  }

  /**
   * Asks the relay about `user`: whether the name has an account there, and their presence
   * (which the relay shows only to those who share a conversation with them, or follow each
   * other). From then on this device hears of their presence when the relay shows it.
   */
  async lookup(user: string): Promise<UserLookupView> {
    return lookupUser(user, this.peers, (u) => this.accounts.hasAccount(u));
  }

  /**
   * Deletes the conversation with `peer` on this device: its messages both ways and what is
   * still in flight (an incoming file is cancelled and its partial file removed; the sender
   * hears so). Saved files stay in the downloads folder. False when there was none.
   */
  deleteConversation(peer: string): boolean {
    if (!isValidUserName(peer)) throw new MessengerError(`"${peer}" is not a valid user name`);
    for (const key of unfinishedIncomingFiles(this.db, peer)) this.files.cancelIncoming(key);
    this.transport.forgetPeer(peer);
    const deleted = deleteConversationRows(this.db, this, peer);
    this.peers.forget(peer);
    this.accounts.forget(peer);
    this.safety.forget(peer);
    return deleted > 0;
  }

  /** Marks everything received from `peer` as read and tells the peer (not a request). */
  markRead(peer: string): number {
    return this.consent.markRead(peer);
  }

  setTyping(peer: string, typing: boolean): void {
    if (isValidUserName(peer) && this.consent.follows(peer)) this.typing.set(peer, typing);
  }

  get settings(): TransportSettings {
    return { ...this.settingsValue };
  }

  updateSettings(patch: Partial<TransportSettings>): TransportSettings {
    const next = { ...this.settingsValue, ...patch };
    checkSettings(next);
    saveMeta(this.db, 'settings', JSON.stringify(next));
    this.settingsValue = next;
    this.transport.updateSettings(next);
    return { ...next };
  }

  // ---------------------------------------------------------------------------------------
  // The account (account.ts): this device, its recovery code, link codes, the devices

  account(): AccountView {
    return this.accounts.view();
  }
  /** The recovery code to show once (then acknowledgeRecoveryCode), or null. */
  pendingRecoveryCode(): string | null {
    return this.accounts.pendingRecoveryCode();
  }
  acknowledgeRecoveryCode(): AccountView {
    return this.accounts.acknowledgeRecoveryCode();
  }
  /** A one-time code for a new device; a `link-request` event follows when one types it. */
  createLinkCode(): Promise<LinkCodeView> {
    return this.accounts.createLinkCode();
  }
  answerLink(device: number, accept: boolean): Promise<DeviceView | null> {
    return this.accounts.answerLink(device, accept);
  }
  devices(): Promise<DeviceView[]> {
    return this.accounts.devices();
  }
  unlinkDevice(device: number): Promise<DeviceView[]> {
    return this.accounts.unlinkDevice(device);
  }
  /** The conversation's notices: its peer's account identity changes. */
  notices(peer: string): NoticeView[] {
    return this.accounts.notices(peer);
  }

  // Safety numbers and verified contacts (safety.ts)

  /** The safety number with `user` (their key asked for first when online). */
  safetyNumber(user: string): Promise<SafetyNumberView> {
    return this.safety.view(user);
  }
  verify(user: string): Promise<SafetyNumberView> {
    return this.safety.verify(user);
  }
  unverify(user: string): SafetyNumberView {
    return this.safety.unverify(user);
  }
  /** Accepts a verified contact's new identity: sending goes on; verified is cleared. */
  acceptIdentity(user: string): SafetyNumberView {
    const view = this.safety.acceptIdentity(user);
    // What waited for the new number is sealed now.
    this.e2e.retry();
    return view;
  }

  // ---------------------------------------------------------------------------------------
  // Queries

  /**
   * Messages with `peer` in send order, newest last. `before` (a message key) pages
   * backwards; ids are unique per device only, so the key breaks ties.
   */
  history(peer: string, options: { before?: string; limit?: number } = {}): MessageView[] {
    return this.views.history(peer, options);
  }

  conversations(): ConversationView[] {
    return this.views.conversations(this.presence(), (peer) => this.contacts.state(peer));
  }

  presence(): PresenceView[] {
    return this.peers.list();
  }

  stats(peer: string): TransportStats {
    return this.transport.stats(peer);
  }

  /** Starts the network view's counters and segment log again, for `peer` or everyone. */
  resetStats(peer?: string): void {
    this.transport.resetStats(peer);
  }

  /** What happened to recent segments exchanged with `peer`, after log entry `since`. */
  segmentLog(peer: string, since = 0): SegmentLogEntry[] {
    return this.transport.log.since(since, peer);
  }

  /** The relay's reason for refusing a message, if it did. */
  lastError(key: string): string | null {
    return this.refusals.get(key) ?? null;
  }

  message(key: string): MessageView | null {
    const k = parseKey(key);
    return k ? this.views.view(k) : null;
  }

  private onFrame(frame: Frame): void {
    switch (frame.type) {
      case 'presence':
        this.onPresence(frame);
        return;
      case 'typing':
      case 'sealed':
        this.e2e.onControl(frame);
        return;
      case 'data':
        this.clock.observe(frame.messageId, Date.now());
        break;
      case 'account':
        this.accounts.onFrame(frame);
        return;
      case 'error':
        onRelayError(frame, {
          me: this,
          accounts: this.accounts,
          transport: this.transport,
          refusals: this.refusals,
          emit: (e) => this.emit('event', e),
        });
        return;
    }
    this.transport.onFrame(frame);
  }

  private onPresence(frame: Frame & { type: 'presence' }): void {
    for (const e of this.peers.onFrame(frame)) {
      this.transport.peerPresence(e.user, e.online);
      this.emit('event', {
        type: 'presence',
        presence: { user: e.user, online: e.online, devices: e.devices, lastSeen: e.lastSeen },
      });
    }
  }

  private emitMessage(key: MessageKey): void {
    const view = this.views.view(key);
    if (!view) return;
    // Whoever another of our devices wrote to is accepted; whoever we accepted is someone we
    // talk with: their presence is ours to see from now on (a request's is not).
    if (view.direction === 'out') this.consent.wroteTo(view.peer);
    if (this.consent.follows(view.peer)) this.peers.watch(view.peer);
    // A message from someone ends their typing indicator.
    if (view.direction === 'in' && view.text !== null) this.typing.messageFrom(view.peer);
    this.emit('event', { type: 'message', message: view });
  }
}
