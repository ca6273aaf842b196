// The host of one app instance: one profile, its engine (the Messenger) once a user has logged
// in, and the renderer API of src/shared/contract.ts on top. The Electron main process and the
// browser host both embed this class and only carry its calls and events; every payload is
// validated here (as well as at their own edges) so that no carrier can skip the checks.
import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { ConnectionState, FileView } from '../../shared/api.ts';
import { isPreviewableImage } from '../../shared/preview.ts';
import {
  ApiError,
  validateCall,
  type ChannelSettingsView,
  type HostEvent,
  type MethodName,
  type Params,
  type RelayStatsView,
  type Result,
  type SessionView,
} from '../../shared/contract.ts';
import { DEFAULT_SETTINGS, Messenger, MessengerError } from '../messenger.ts';
import { relayTarget } from '../relay-pin.ts';
import {
  channelView,
  httpBase,
  relayChannelPatch,
  relayCounters,
  relayRequest,
} from './relay-admin.ts';
import { accountSettled, isRegistered } from './account-wait.ts';
import {
  openMessageFile,
  pickDownloadsDir,
  readPreview,
  type FileOpener,
  type FolderPicker,
} from './local-files.ts';
import { readRemembered, writeRemembered, type Remembered } from './remembered.ts';

export interface HostOptions {
  profileDir: string;
  /** The relay to use; else the one remembered from the last login. */
  relayUrl?: string;
  /** Log in as this user at once (the profile must be new or belong to this user). */
  user?: string;
  kind: 'electron' | 'browser';
  /** How long a relay may take to answer the login's reachability check. */
  probeTimeoutMs?: number;
  /** Where received files go, saved in the profile (default: what the profile says). */
  downloadsDir?: string;
  /** Allows plain ws:// to a relay on another machine. */
  insecure?: boolean;
}

const HTTP_TIMEOUT_MS = 3000;
/**
 * How long a first login waits for the relay's verdict on the new account (registered, or the
 * name taken) before it answers anyway; the engine keeps trying after that.
 */
const REGISTER_WAIT_MS = 10_000;

export class Host extends EventEmitter<{ event: [HostEvent] }> {
  readonly profileDir: string;
  readonly kind: 'electron' | 'browser';
  private messenger: Messenger | null = null;
  private relayUrl: string | null;
  private remembered: Remembered;
  private connection: ConnectionState = 'offline';
  private connectionDetail: string | null = null;
  private readonly probeTimeoutMs: number;
  private readonly downloads: { downloadsDir?: string };
  private readonly insecure: boolean;
  private closed = false;
  /** Calls run one at a time per host for login (it swaps the engine). */
  private loginChain: Promise<unknown> = Promise.resolve();

  private constructor(options: HostOptions, relayUrl: string | null, remembered: Remembered) {
    super();
    this.remembered = remembered;
    this.profileDir = resolve(options.profileDir);
    this.kind = options.kind;
    this.relayUrl = relayUrl;
    this.probeTimeoutMs = options.probeTimeoutMs ?? 5000;
    this.downloads =
      options.downloadsDir === undefined ? {} : { downloadsDir: options.downloadsDir };
    this.insecure = options.insecure ?? false;
  }

  /**
   * Opens a profile. If it already has a user (or `user` is given) and a relay is known, the
   * engine starts at once and keeps reconnecting; otherwise the renderer shows the login.
   */
  static async open(options: HostOptions): Promise<Host> {
    mkdirSync(options.profileDir, { recursive: true });
    const remembered = readRemembered(options.profileDir);
    const relayUrl = options.relayUrl ?? remembered.relayUrl ?? null;
    const host = new Host(options, relayUrl, remembered);
    if (relayUrl !== null) {
      if (options.user !== undefined) {
        await host.login({ user: options.user, relayUrl }, { probe: false });
      } else {
        host.resume(relayUrl);
      }
    }
    return host;
  }

  get session(): SessionView {
    return {
      profile: basename(this.profileDir),
      user: this.messenger?.user ?? null,
      relayUrl: this.relayUrl,
      relayFingerprint: this.messenger?.relayFingerprint ?? null,
      connection: this.messenger ? this.connection : 'offline',
      connectionDetail: this.messenger ? this.connectionDetail : null,
      settings: this.messenger?.settings ?? { ...DEFAULT_SETTINGS },
      files: this.messenger?.fileSettings ?? null,
      host: this.kind,
      preferences: { ...this.remembered.preferences },
    };
  }

  /**
   * The carrier's way to open a finished file (Electron: shell.openPath / showItemInFolder);
   * null where the host cannot show anything on the user's screen (the browser host).
   */
  opener: FileOpener | null = null;
  /**
   * Which paths `sendFile({ path })` may send: Electron allows the files the user dropped or
   * picked; null (the browser host, which takes uploads) refuses every path.
   */
  pathPolicy: ((path: string) => boolean) | null = null;
  /**
   * The carrier's folder picker (Electron: the main process's dialog), opened on the current
   * downloads folder; resolves with the folder the user chose, or null when cancelled. Null
   * where there is none (the browser host): the downloads folder is then only the one given
   * on the command line. The renderer never names a folder.
   */
  folderPicker: FolderPicker | null = null;
  /** Files uploaded to the browser host, by upload id; null where there are none. */
  uploads: { pathOf(id: string): string | null } | null = null;

  /** The engine, for the shell's own needs (notifications); null before the first login. */
  get engine(): Messenger | null {
    return this.messenger;
  }

  /** Runs one renderer call: validates it, then answers or throws an ApiError. */
  async call(method: unknown, params: unknown): Promise<unknown> {
    const valid = validateCall(method, params);
    return this.dispatch(method as MethodName, valid);
  }

  private async dispatch<M extends MethodName>(method: M, p: Params<M>): Promise<Result<M>> {
    const r = await this.run(method, p as never);
    return r as Result<M>;
  }

  private async run(method: MethodName, p: Record<string, unknown>): Promise<unknown> {
    switch (method) {
      case 'session':
        return this.session;
      case 'login':
        return this.login(p as Params<'login'>, { probe: true });
      case 'account':
        return this.messenger?.account() ?? null;
      case 'linkDevice': {
        const { code, relayUrl, deviceName } = p as Params<'linkDevice'>;
        return this.join(relayUrl, (profileDir) =>
          Messenger.link({
            profileDir,
            relayUrl,
            code,
            insecure: this.insecure,
            ...(deviceName ? { deviceName } : {}),
          }),
        );
      }
      case 'recoverAccount': {
        const { user, code, relayUrl } = p as Params<'recoverAccount'>;
        return this.join(relayUrl, (profileDir) =>
          Messenger.recover({ profileDir, relayUrl, user, code, insecure: this.insecure }),
        );
      }
      case 'relayStats':
        return this.relayStats();
      case 'getChannel':
        return this.channel('GET', (p as Params<'getChannel'>).token);
      case 'setChannel': {
        const { token, patch } = p as Params<'setChannel'>;
        return this.channel('PUT', token, patch);
      }
      case 'setPreferences': {
        const { patch } = p as Params<'setPreferences'>;
        this.remember({ preferences: { ...this.remembered.preferences, ...patch } });
        this.emitSession();
        return this.session.preferences;
      }
    }
    const m = this.requireEngine();
    try {
      switch (method) {
        case 'send': {
          const { to, text } = p as Params<'send'>;
          if (text.trim() === '') throw new ApiError('invalid', 'a message needs some text');
          return m.send(to, text);
        }
        case 'retry':
          return m.retry((p as Params<'retry'>).key);
        case 'markRead':
          return m.markRead((p as Params<'markRead'>).peer);
        case 'setTyping': {
          const { peer, typing } = p as Params<'setTyping'>;
          m.setTyping(peer, typing);
          return null;
        }
        case 'history': {
          const { peer, ...page } = p as Params<'history'>;
          return m.history(peer, page);
        }
        case 'conversations':
          return m.conversations();
        case 'presence':
          return m.presence().filter((pr) => pr.user !== m.user);
        case 'deleteConversation':
          return m.deleteConversation((p as Params<'deleteConversation'>).peer);
        case 'setContact': {
          const { peer, action } = p as Params<'setContact'>;
          return m.setContact(peer, action);
        }
        case 'downloadFile':
          m.downloadFile((p as Params<'downloadFile'>).key);
          return true;
        case 'lookupUser':
          return await m.lookup((p as Params<'lookupUser'>).user);
        case 'network': {
          const { peer, since } = p as Params<'network'>;
          return { stats: m.stats(peer), log: m.segmentLog(peer, since ?? 0), at: Date.now() };
        }
        case 'resetNetwork':
          m.resetStats((p as Params<'resetNetwork'>).peer);
          return null;
        case 'updateSettings': {
          const settings = m.updateSettings((p as Params<'updateSettings'>).patch);
          this.emitSession();
          return settings;
        }
        case 'sendFile': {
          const { to, path, upload } = p as Params<'sendFile'>;
          if ((path === undefined) === (upload === undefined)) {
            throw new ApiError('invalid', 'give either the path of a file or an upload id');
          }
          if (path !== undefined && !(this.pathPolicy?.(path) ?? false)) {
            throw new ApiError(
              'forbidden',
              'only a file the user dropped or picked in this window can be sent',
            );
          }
          const source = path ?? this.uploads?.pathOf(upload!);
          if (source === undefined || source === null) {
            throw new ApiError('invalid', 'no such upload: it may have expired; send it again');
          }
          return await m.sendFile(to, source);
        }
        case 'controlFile': {
          const { key, action } = p as Params<'controlFile'>;
          return m.controlFile(key, action);
        }
        case 'filePreview': {
          const offered = this.offeredFile((p as Params<'filePreview'>).key);
          if (offered === null || !isPreviewableImage(offered.file.type ?? '')) return null;
          return await readPreview(offered.path, offered.file.type!);
        }
        case 'openFile': {
          const { key, reveal } = p as Params<'openFile'>;
          await openMessageFile(m, key, reveal ?? false, this.opener);
          return null;
        }
        case 'pendingRecoveryCode':
          return m.pendingRecoveryCode();
        case 'acknowledgeRecoveryCode':
          return m.acknowledgeRecoveryCode();
        case 'createLinkCode':
          return await m.createLinkCode();
        case 'answerLink': {
          const { device, accept } = p as Params<'answerLink'>;
          await m.answerLink(device, accept);
          return null;
        }
        case 'devices':
          return await m.devices();
        case 'notices':
          return m.notices((p as Params<'notices'>).peer);
        case 'safetyNumber':
          return await m.safetyNumber((p as Params<'safetyNumber'>).user);
        case 'setVerified': {
          const { user, verified } = p as Params<'setVerified'>;
          return verified ? await m.verify(user) : m.unverify(user);
        }
        case 'acceptIdentity':
          return m.acceptIdentity((p as Params<'acceptIdentity'>).user);
        case 'unlinkDevice':
          return await m.unlinkDevice((p as Params<'unlinkDevice'>).device);
        case 'updateFileSettings': {
          const { maxFileBytes } = (p as Params<'updateFileSettings'>).patch;
          const files = m.updateFileSettings(maxFileBytes === undefined ? {} : { maxFileBytes });
          this.emitSession();
          return files;
        }
        case 'chooseDownloadsDir': {
          const files = await pickDownloadsDir(m, this.folderPicker, () => this.messenger === m);
          if (files !== null) this.emitSession();
          return files;
        }
      }
    } catch (e) {
      if (e instanceof MessengerError || e instanceof RangeError) {
        throw new ApiError('invalid', e.message);
      }
      throw e;
    }
    throw new ApiError('invalid', `unknown method ${method}`);
  }

  /**
   * The file of message `key` this host may hand out, if any: an outgoing file's source, or an
   * incoming one once verified and saved (never a partial or failed one).
   */
  offeredFile(key: string): { path: string; file: FileView } | null {
    const m = this.messenger;
    const message = m?.message(key) ?? null;
    const file = message?.file ?? null;
    if (m === null || message === null || file === null || file.path === null) return null;
    // This device's own file is its source; any other (a peer's, or a copy of one sent from
    // another device of ours) is a download, offered once it is verified and saved.
    const ours = message.author === m.user && message.authorDevice === m.device;
    if (!ours && file.state !== 'done') return null;
    return { path: file.path, file };
  }

  private requireEngine(): Messenger {
    if (this.messenger === null) throw new ApiError('notLoggedIn', 'log in first');
    return this.messenger;
  }

  /**
   * Logs in: checks that the relay answers (a first login must not bind the profile to a name
   * on a relay that is not there), then (re)starts the engine and remembers the relay.
   */
  private login(
    { user, relayUrl }: { user: string; relayUrl: string },
    { probe }: { probe: boolean },
  ): Promise<SessionView> {
    const next = this.loginChain.then(async () => {
      if (this.closed) throw new ApiError('unreachable', 'this app instance is closing');
      const current = this.messenger;
      // A name the relay has not accepted yet (new, or taken by another account) may change.
      const renaming = current !== null && current.user !== user && !isRegistered(current);
      if (current !== null && current.user !== user && !renaming) {
        throw new ApiError(
          'refused',
          `this profile belongs to ${current.user}; use another profile to log in as ${user}`,
        );
      }
      try {
        relayTarget(relayUrl, this.insecure);
      } catch (e) {
        if (e instanceof MessengerError) throw new ApiError('refused', e.message);
        throw e;
      }
      if (probe) await this.probe(relayUrl);
      if (current !== null && current.relayUrl === relayUrl && !renaming) return this.session;
      if (current !== null) await this.stopEngine();
      let m: Messenger;
      try {
        m = Messenger.open({
          profileDir: this.profileDir,
          relayUrl,
          user,
          insecure: this.insecure,
          ...this.downloads,
        });
      } catch (e) {
        if (e instanceof MessengerError) throw new ApiError('refused', e.message);
        throw e;
      }
      this.startEngine(m);
      this.relayUrl = relayUrl;
      this.remember({ relayUrl });
      // A new account from the login form: answer once the relay has registered it or said the
      // name is taken, so that the window goes straight to the recovery code or to picking
      // another name.
      if (probe && m.account().state === 'new') await accountSettled(m, REGISTER_WAIT_MS);
      this.emitSession();
      return this.session;
    });
    this.loginChain = next.catch(() => undefined);
    return next;
  }

  /**
   * Instead of a first login: `joinAccount` makes this fresh profile a device of an account
   * that exists (by a link code, or by its recovery code), then the engine starts on it.
   */
  private join(
    relayUrl: string,
    joinAccount: (profileDir: string) => Promise<unknown>,
  ): Promise<SessionView> {
    const next = this.loginChain.then(async () => {
      if (this.closed) throw new ApiError('unreachable', 'this app instance is closing');
      if (this.messenger !== null) {
        throw new ApiError(
          'refused',
          `this profile already belongs to ${this.messenger.user}; use a new profile to join another account`,
        );
      }
      await this.probe(relayUrl);
      try {
        await joinAccount(this.profileDir);
        this.startEngine(
          Messenger.open({
            profileDir: this.profileDir,
            relayUrl,
            insecure: this.insecure,
            ...this.downloads,
          }),
        );
      } catch (e) {
        if (e instanceof MessengerError) throw new ApiError('refused', e.message);
        throw e;
      }
      this.relayUrl = relayUrl;
      this.remember({ relayUrl });
      this.emitSession();
      return this.session;
    });
    this.loginChain = next.catch(() => undefined);
    return next;
  }

  /** Starts the engine of a profile that already has a user; a new profile waits for login. */
  private resume(relayUrl: string): void {
    let m: Messenger;
    try {
      m = Messenger.open({
        profileDir: this.profileDir,
        relayUrl,
        insecure: this.insecure,
        ...this.downloads,
      });
    } catch (e) {
      if (e instanceof MessengerError) return; // no user yet: the login screen
      throw e;
    }
    this.startEngine(m);
  }

  private startEngine(m: Messenger): void {
    this.messenger = m;
    this.connection = 'connecting';
    this.connectionDetail = null;
    m.on('event', (e) => {
      if (this.messenger !== m) return;
      if (e.type === 'connection') {
        this.connection = e.state;
        this.connectionDetail = e.detail ?? null;
      }
      this.emit('event', e);
      // The relay's certificate is known once online: the session shows its fingerprint.
      if (e.type === 'connection' && e.state === 'online' && m.relayFingerprint !== null)
        this.emitSession();
    });
    m.start();
  }

  private async stopEngine(): Promise<void> {
    const m = this.messenger;
    this.messenger = null;
    await m?.close();
  }

  /** Changes what the profile remembers, keeping the rest. */
  private remember(patch: Partial<Remembered>): void {
    this.remembered = { ...this.remembered, ...patch };
    writeRemembered(this.profileDir, this.remembered);
  }

  private emitSession(): void {
    this.emit('event', { type: 'session', session: this.session });
  }

  /** Is a Strata relay answering at this address? Its /healthz says so. */
  private async probe(relayUrl: string): Promise<void> {
    try {
      // Nothing secret goes with the probe: without a pin in the URL, the engine checks the
      // certificate when it connects (and keeps it).
      const pin = relayTarget(relayUrl, this.insecure).pin;
      const res = await relayRequest(new URL('healthz', httpBase(relayUrl)), pin, {
        timeoutMs: this.probeTimeoutMs,
      });
      const body = res.body as { status?: unknown };
      if (res.status === 200 && body.status === 'ok') return;
      throw new Error(`it answered HTTP ${res.status}`);
    } catch (e) {
      throw new ApiError('unreachable', `cannot reach a Strata relay at ${relayUrl}: ${reason(e)}`);
    }
  }

  private async relayStats(): Promise<RelayStatsView> {
    const at = Date.now();
    if (this.relayUrl === null) return { reachable: false, error: 'no relay yet', at };
    try {
      const res = await relayRequest(new URL('api/stats', httpBase(this.relayUrl)), this.pin(), {
        timeoutMs: HTTP_TIMEOUT_MS,
      });
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
      return { reachable: true, counters: relayCounters(res.body), at };
    } catch (e) {
      return { reachable: false, error: reason(e), at };
    }
  }

  /** Reads or changes the relay's channel through its admin API (the token is the user's). */
  private async channel(
    method: 'GET' | 'PUT',
    token: string,
    patch?: Partial<ChannelSettingsView>,
  ): Promise<ChannelSettingsView> {
    if (this.relayUrl === null) throw new ApiError('notLoggedIn', 'log in to a relay first');
    const url = new URL('api/channel', httpBase(this.relayUrl));
    const pin = this.pin();
    // The token goes only to the relay whose certificate the engine accepted.
    if (url.protocol === 'https:' && pin === null)
      throw new ApiError(
        'unreachable',
        'not connected to the relay yet: its certificate is unknown',
      );
    let res: { status: number; body: unknown };
    try {
      res = await relayRequest(url, pin, {
        method,
        headers: {
          Authorization: `Bearer ${token}`,
          ...(patch ? { 'Content-Type': 'application/json' } : {}),
        },
        ...(patch ? { body: JSON.stringify(relayChannelPatch(patch)) } : {}),
        timeoutMs: HTTP_TIMEOUT_MS,
      });
    } catch (e) {
      throw new ApiError('unreachable', `the relay did not answer: ${reason(e)}`);
    }
    const body = (typeof res.body === 'object' && res.body !== null ? res.body : {}) as Record<
      string,
      unknown
    >;
    if (res.status === 429) {
      throw new ApiError('forbidden', String(body['error'] ?? 'too many wrong tokens'));
    }
    if (res.status === 401 || res.status === 403) {
      throw new ApiError('forbidden', String(body['error'] ?? 'the relay refused the token'));
    }
    if (res.status === 400) {
      const details = Array.isArray(body['details']) ? `: ${body['details'].join('; ')}` : '';
      throw new ApiError('invalid', `${String(body['error'] ?? 'invalid settings')}${details}`);
    }
    if (res.status !== 200) throw new ApiError('internal', `the relay answered HTTP ${res.status}`);
    return channelView(body);
  }

  /** The certificate the relay's HTTP API must show: the one the engine accepted. */
  private pin(): string | null {
    const url = this.relayUrl;
    return this.messenger?.relayFingerprint ?? (url ? relayTarget(url, true).pin : null);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.loginChain;
    await this.stopEngine();
    this.removeAllListeners();
  }
}

function reason(e: unknown): string {
  if (e instanceof DOMException && e.name === 'TimeoutError') return 'no answer in time';
  const cause = (e as { cause?: { code?: string } }).cause?.code;
  return cause ?? (e instanceof Error ? e.message : String(e));
}
