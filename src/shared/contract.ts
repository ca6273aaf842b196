// The API between an app's host (the Electron main process, or the browser host in Node) and
// its renderer. One table of methods, each with a validator for its parameters: the Electron
// preload derives its channel allowlist from it, both hosts validate every payload with it,
// and both renderer-side clients are typed by it. Plain JSON data only.
import type {
  AccountView,
  ConnectionState,
  DeviceView,
  LinkCodeView,
  ContactState,
  ConversationView,
  MessageView,
  MessengerEvent,
  NoticeView,
  PresenceView,
  SafetyNumberView,
  TransportSettings,
  TransportStats,
} from './api.ts';
import { isValidUserName } from './protocol/names.ts';

/** The rule for user names, the protocol's own (Unicode letters and digits, '.', '_', '-'). */
export const isUserName = isValidUserName;

/**
 * Details of the `connection` events the renderer's WebSocket client reports about its own link
 * to the browser host (not the host's link to the relay).
 */
export const HOST_LOST = 'hostLost';
export const HOST_BACK = 'hostBack';

/** The languages the UI speaks. */
export const UI_LANGUAGES = ['en', 'ru'] as const;
export type UiLanguage = (typeof UI_LANGUAGES)[number];

/** The UI's preferences, kept in the profile so that they survive restarts of either host. */
export interface PreferencesView {
  /** The language the user picked; null follows the system's. */
  language: UiLanguage | null;
}

/** What the renderer knows of the app instance it runs in. */
export interface SessionView {
  /** The profile's name (its directory's name): Alice's window, Bob's window. */
  profile: string;
  /** The logged-in user; null until the first login of this profile. */
  user: string | null;
  /** The relay last logged in to (remembered), or given on the command line. */
  relayUrl: string | null;
  /** The SHA-256 of the relay's TLS certificate the engine accepted; null for plain ws://. */
  relayFingerprint: string | null;
  connection: ConnectionState;
  /** Why the connection is offline, when it is. */
  connectionDetail: string | null;
  settings: TransportSettings;
  /** Where received files go and the largest file sent or accepted; null before login. */
  files: FileSettingsView | null;
  /** 'electron' or 'browser': where the host runs. */
  host: 'electron' | 'browser';
  /** Known before login: the login screen speaks the chosen language too. */
  preferences: PreferencesView;
}

/** What the relay says of a name: whether it was ever used, and its presence. */
export interface UserLookupView {
  user: string;
  /** Whether anyone of this name has ever connected to the relay. */
  exists: boolean;
  online: boolean;
  /** Epoch ms; null when the name was never used. */
  lastSeen: number | null;
}

export interface FileSettingsView {
  /** An absolute folder; received files are saved there under sanitised, unique names. */
  downloadsDir: string;
  maxFileBytes: number;
  /** Files from accepted contacts up to this size download by themselves; larger ones wait. */
  autoDownloadBytes: number;
}

/** What the renderer may change of the file settings: never the folder (chooseDownloadsDir). */
export type FileSettingsPatch = Partial<Omit<FileSettingsView, 'downloadsDir'>>;

/** One entry of the transport's recent-segment log (the network view shows the newest). */
export interface SegmentLogEntry {
  /** Increasing per app instance: ask for entries after the last one seen. */
  seq: number;
  /** Epoch milliseconds. */
  at: number;
  peer: string;
  event: 'sent' | 'retransmitted' | 'acked' | 'lost' | 'received' | 'duplicate';
  messageId: number;
  index: number;
  segmentCount: number;
  bytes: number;
}

export interface NetworkSnapshot {
  stats: TransportStats;
  /** Log entries after the `since` asked for, oldest first (at most LOG_CAPACITY). */
  log: SegmentLogEntry[];
  /** Epoch ms at which the snapshot was taken. */
  at: number;
}

/** The relay's channel-layer counters, from its /api/stats. */
export interface RelayCounters {
  framesIn: number;
  framesOut: number;
  bytesIn: number;
  bytesOut: number;
  lost: number;
  /** Bits the channel flipped (before the code corrected them). */
  flipped: number;
  corrected: number;
  uncorrectable: number;
  duplicated: number;
  reordered: number;
  delayed: number;
}

export type RelayStatsView =
  | { reachable: true; counters: RelayCounters; at: number }
  | { reachable: false; error: string; at: number };

/** The relay's frame-loss models: independent losses, or bursts (a two-state Markov chain). */
export const LOSS_MODELS = ['bernoulli', 'gilbert-elliott'] as const;
export type LossModelName = (typeof LOSS_MODELS)[number];
/** The longest bit-error burst the relay takes (its MAX_BURST_BITS). */
export const MAX_BURST_BITS = 64;

/**
 * The channel settings the network view can change (a subset of the relay's; the relay's
 * `gilbertElliott` object is flattened into the `ge*` fields).
 */
export interface ChannelSettingsView {
  /** Bernoulli: the chance that a frame is lost. */
  loss: number;
  lossModel: LossModelName;
  /** Gilbert-Elliott: chance per frame of entering the bad state. */
  geGoodToBad: number;
  /** Gilbert-Elliott: chance per frame of leaving it (a loss burst lasts 1 / this frames on average). */
  geBadToGood: number;
  geLossGood: number;
  geLossBad: number;
  ber: number;
  /** Adjacent coded bits one bit error flips: the burst a code must repair. */
  burstBits: number;
  code: string;
  delayMs: number;
  jitterMs: number;
  duplicate: number;
  reorder: number;
}
export const CHANNEL_CODES = [
  'none',
  'hamming74',
  'hamming1511',
  'cyclic74',
  'cyclic1511',
] as const;

// ---------------------------------------------------------------------------------------------
// Validation: tiny combinators, so that the table below reads as the schema it is.

type Check<T> = (v: unknown, path: string) => T;

export class ContractError extends Error {
  override name = 'ContractError';
}

const fail = (path: string, what: string): never => {
  throw new ContractError(`${path} must be ${what}`);
};

const str =
  (max = 4096): Check<string> =>
  (v, path) =>
    typeof v === 'string' && v.length <= max ? v : fail(path, `a string of at most ${max} chars`);
const userName: Check<string> = (v, path) =>
  typeof v === 'string' && isValidUserName(v)
    ? v
    : fail(path, "a user name (1 to 32 letters, digits, '.', '_' or '-')");
const bool: Check<boolean> = (v, path) =>
  typeof v === 'boolean' ? v : fail(path, 'true or false');
const int =
  (min: number, max: number): Check<number> =>
  (v, path) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max
      ? v
      : fail(path, `an integer from ${min} to ${max}`);
const num =
  (min: number, max: number): Check<number> =>
  (v, path) =>
    typeof v === 'number' && Number.isFinite(v) && v >= min && v <= max
      ? v
      : fail(path, `a number from ${min} to ${max}`);
const oneOf =
  <T extends string>(values: readonly T[]): Check<T> =>
  (v, path) =>
    typeof v === 'string' && (values as readonly string[]).includes(v)
      ? (v as T)
      : fail(path, `one of ${values.join(', ')}`);
const nullable =
  <T>(check: Check<T>): Check<T | null> =>
  (v, path) =>
    v === null ? null : check(v, path);
const relayUrl: Check<string> = (v, path) => {
  const s = str(2048)(v, path);
  const u = URL.parse(s);
  return u !== null && (u.protocol === 'ws:' || u.protocol === 'wss:') && u.host !== ''
    ? s
    : fail(path, 'a ws:// or wss:// address, e.g. ws://127.0.0.1:7000/');
};

type Shape = Record<string, readonly [Check<unknown>, 'required' | 'optional']>;
type FromShape<S extends Shape> = {
  [K in keyof S as S[K][1] extends 'required' ? K : never]: ReturnType<S[K][0]>;
} & {
  [K in keyof S as S[K][1] extends 'optional' ? K : never]?: ReturnType<S[K][0]>;
};

/** An object with exactly these fields (unknown fields are refused, not ignored). */
function object<S extends Shape>(shape: S): Check<FromShape<S>> {
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(path, 'an object');
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(v)) {
      if (!Object.hasOwn(shape, key)) throw new ContractError(`${path}.${key} is not expected`);
    }
    for (const [key, [check, presence]] of Object.entries(shape)) {
      const value = (v as Record<string, unknown>)[key];
      if (value === undefined) {
        if (presence === 'required') throw new ContractError(`${path}.${key} is required`);
        continue;
      }
      out[key] = check(value, `${path}.${key}`);
    }
    return out as FromShape<S>;
  };
}

const req = <T>(c: Check<T>) => [c, 'required'] as const;
const opt = <T>(c: Check<T>) => [c, 'optional'] as const;
const none = object({});

/** The longest text message the UI may send (the transport's own limit is larger). */
export const MAX_TEXT_CHARS = 100_000;
/** How many segment-log entries a host keeps. */
export const LOG_CAPACITY = 500;

const settingsPatch = object({
  segmentSize: opt(int(64, 65536)),
  assemblyPeriodMs: opt(int(50, 60_000)),
  idleCycles: opt(int(1, 3)),
});
const channelPatch = object({
  loss: opt(num(0, 1)),
  lossModel: opt(oneOf(LOSS_MODELS)),
  geGoodToBad: opt(num(0, 1)),
  geBadToGood: opt(num(0, 1)),
  geLossGood: opt(num(0, 1)),
  geLossBad: opt(num(0, 1)),
  ber: opt(num(0, 1)),
  burstBits: opt(int(1, MAX_BURST_BITS)),
  code: opt(oneOf(CHANNEL_CODES)),
  delayMs: opt(int(0, 600_000)),
  jitterMs: opt(int(0, 600_000)),
  duplicate: opt(num(0, 1)),
  reorder: opt(num(0, 1)),
});
const adminToken = str(256);
const uploadId: Check<string> = (v, path) =>
  typeof v === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(v) ? v : fail(path, 'an upload id');

/**
 * Every method the renderer may call: its parameter validator and (as a phantom) its result.
 * Adding a method here adds it to the Electron allowlist and to both hosts' dispatch.
 */
function method<P, R>(params: Check<P>): { params: Check<P>; result: R } {
  return { params, result: undefined as R };
}

export const METHODS = {
  session: method<Record<string, never>, SessionView>(none),
  login: method<{ user: string; relayUrl: string }, SessionView>(
    object({ user: req(userName), relayUrl: req(relayUrl) }),
  ),
  send: method<{ to: string; text: string }, MessageView>(
    object({ to: req(userName), text: req(str(MAX_TEXT_CHARS)) }),
  ),
  retry: method<{ key: string }, boolean>(object({ key: req(str(128)) })),
  /** Marks read and sends receipts; the host emits no event for it (the caller knows). */
  markRead: method<{ peer: string }, number>(object({ peer: req(userName) })),
  setTyping: method<{ peer: string; typing: boolean }, null>(
    object({ peer: req(userName), typing: req(bool) }),
  ),
  history: method<{ peer: string; before?: string; limit?: number }, MessageView[]>(
    object({ peer: req(userName), before: opt(str(128)), limit: opt(int(1, 1000)) }),
  ),
  conversations: method<Record<string, never>, ConversationView[]>(none),
  presence: method<Record<string, never>, PresenceView[]>(none),
  /** Accepts a message request (its waiting files start), blocks or unblocks a peer. */
  setContact: method<{ peer: string; action: 'accept' | 'block' | 'unblock' }, ContactState>(
    object({ peer: req(userName), action: req(oneOf(['accept', 'block', 'unblock'] as const)) }),
  ),
  /** Downloads an incoming file that waits for a click (over the auto-download size). */
  downloadFile: method<{ key: string }, boolean>(object({ key: req(str(128)) })),
  /** Deletes a conversation on this device (messages both ways, transfers in flight). */
  deleteConversation: method<{ peer: string }, boolean>(object({ peer: req(userName) })),
  /** Asks the relay whether a name exists (and from then on follows its presence). */
  lookupUser: method<{ user: string }, UserLookupView>(object({ user: req(userName) })),
  network: method<{ peer: string; since?: number }, NetworkSnapshot>(
    object({ peer: req(userName), since: opt(int(0, Number.MAX_SAFE_INTEGER)) }),
  ),
  /** Starts the network view's transport counters and segment log again: one peer's, or all. */
  resetNetwork: method<{ peer?: string }, null>(object({ peer: opt(userName) })),
  relayStats: method<Record<string, never>, RelayStatsView>(none),
  getChannel: method<{ token: string }, ChannelSettingsView>(object({ token: req(adminToken) })),
  setChannel: method<{ token: string; patch: Partial<ChannelSettingsView> }, ChannelSettingsView>(
    object({ token: req(adminToken), patch: req(channelPatch) }),
  ),
  updateSettings: method<{ patch: Partial<TransportSettings> }, TransportSettings>(
    object({ patch: req(settingsPatch) }),
  ),
  /**
   * Sends a file: by its path on this machine (Electron: the preload resolves a dropped or
   * picked File to its path), or by the id of an upload to the browser host (POST /upload).
   * Exactly one of `path` and `upload`.
   */
  sendFile: method<{ to: string; path?: string; upload?: string }, MessageView>(
    object({ to: req(userName), path: opt(str(4096)), upload: opt(uploadId) }),
  ),
  /** Pauses, resumes or cancels one of this device's files in flight. */
  controlFile: method<{ key: string; action: 'pause' | 'resume' | 'cancel' }, boolean>(
    object({ key: req(str(128)), action: req(oneOf(['pause', 'resume', 'cancel'] as const)) }),
  ),
  /**
   * Electron: opens a finished file with the system's application, or shows it in its folder
   * (`reveal`). Only files of this profile's messages, looked up by key, never a given path.
   * The browser host answers 'invalid': a browser offers GET /files/<key> instead.
   */
  openFile: method<{ key: string; reveal?: boolean }, null>(
    object({ key: req(str(128)), reveal: opt(bool) }),
  ),
  /**
   * A finished image's bytes for its preview, base64 (both carriers take strings as they
   * are): a raster image of at most PREVIEW_MAX_BYTES, else null. Looked up by key only.
   */
  filePreview: method<{ key: string }, { type: string; base64: string } | null>(
    object({ key: req(str(128)) }),
  ),
  /**
   * Changes the file settings the renderer may set. Not the downloads folder: no method takes
   * a folder path from the renderer (a page that was taken over, or anyone holding the browser
   * host's token, could otherwise have received files written to ~/.config/autostart).
   */
  updateFileSettings: method<{ patch: FileSettingsPatch }, FileSettingsView>(
    object({
      patch: req(
        object({
          maxFileBytes: opt(int(1, Number.MAX_SAFE_INTEGER)),
          autoDownloadBytes: opt(int(0, Number.MAX_SAFE_INTEGER)),
        }),
      ),
    }),
  ),
  /**
   * Electron: the main process shows the system's folder picker, and the folder the user
   * chooses there becomes the downloads folder; null when the user cancels. Takes no path.
   * The browser host answers 'forbidden': its folder is the one `strata web --downloads` gave.
   */
  chooseDownloadsDir: method<Record<string, never>, FileSettingsView | null>(none),
  /** This profile's account; null before the first login. */
  account: method<Record<string, never>, AccountView | null>(none),
  /**
   * The recovery code made with the account (or by a recovery), while not yet acknowledged:
   * shown once, then acknowledgeRecoveryCode deletes it. Null when none waits.
   */
  pendingRecoveryCode: method<Record<string, never>, string | null>(none),
  acknowledgeRecoveryCode: method<Record<string, never>, AccountView>(none),
  /** A one-time code (10 minutes) for linking a new device; link-request events follow. */
  createLinkCode: method<Record<string, never>, LinkCodeView>(none),
  /** Accepts or declines a link-request event's device. */
  answerLink: method<{ device: number; accept: boolean }, null>(
    object({ device: req(int(0, 0xffffffff)), accept: req(bool) }),
  ),
  devices: method<Record<string, never>, DeviceView[]>(none),
  /** Removes a device from the account (it is refused from then on); this one too, if asked. */
  unlinkDevice: method<{ device: number }, DeviceView[]>(
    object({ device: req(int(0, 0xffffffff)) }),
  ),
  /**
   * Instead of login on a fresh profile: joins the account whose device shows `code`, then
   * logs in as that account's user.
   */
  linkDevice: method<{ code: string; relayUrl: string; deviceName?: string }, SessionView>(
    object({ code: req(str(64)), relayUrl: req(relayUrl), deviceName: opt(str(64)) }),
  ),
  /**
   * Instead of login on a fresh profile: takes the account `user` back with its recovery
   * code (the old devices are removed); a new recovery code is then pending.
   */
  recoverAccount: method<{ user: string; code: string; relayUrl: string }, SessionView>(
    object({ user: req(userName), code: req(str(64)), relayUrl: req(relayUrl) }),
  ),
  /** The notices of the conversation with `peer` (identity changes), oldest first. */
  notices: method<{ peer: string }, NoticeView[]>(object({ peer: req(userName) })),
  /** The safety number with `user` (docs/security.md); an error when their key is unknown. */
  safetyNumber: method<{ user: string }, SafetyNumberView>(object({ user: req(userName) })),
  /** Marks `user`'s current safety number as verified (true) or clears the mark (false). */
  setVerified: method<{ user: string; verified: boolean }, SafetyNumberView>(
    object({ user: req(userName), verified: req(bool) }),
  ),
  /** Accepts a verified contact's changed safety number: sending to them goes on. */
  acceptIdentity: method<{ user: string }, SafetyNumberView>(object({ user: req(userName) })),
  /** Changes the UI's preferences (no login needed); the host saves them in the profile. */
  setPreferences: method<{ patch: Partial<PreferencesView> }, PreferencesView>(
    object({ patch: req(object({ language: opt(nullable(oneOf(UI_LANGUAGES))) })) }),
  ),
} as const;

export type MethodName = keyof typeof METHODS;
export type Params<M extends MethodName> = ReturnType<(typeof METHODS)[M]['params']>;
export type Result<M extends MethodName> = (typeof METHODS)[M]['result'];
export const METHOD_NAMES = Object.keys(METHODS) as MethodName[];

export function isMethodName(v: unknown): v is MethodName {
  return typeof v === 'string' && Object.hasOwn(METHODS, v);
}

/** Checks a call's method and parameters; throws ContractError with a clear message. */
export function validateCall<M extends MethodName>(method: unknown, params: unknown): Params<M> {
  if (!isMethodName(method)) throw new ContractError(`unknown method ${String(method)}`);
  return METHODS[method].params(params ?? {}, 'params') as Params<M>;
}

/** Events pushed from the host to the renderer. */
export type HostEvent = MessengerEvent | { type: 'session'; session: SessionView };

/** An error as it crosses the bridge: a code the UI can translate, and a message. */
export interface ApiErrorBody {
  code: 'invalid' | 'notLoggedIn' | 'refused' | 'unreachable' | 'forbidden' | 'internal';
  message: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly code: ApiErrorBody['code'];
  constructor(code: ApiErrorBody['code'], message: string) {
    super(message);
    this.code = code;
  }
}

/** The renderer's view of its host, whichever transport carries it. */
export interface StrataApi {
  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>>;
  /** Receives every host event; returns the unsubscribe function. */
  subscribe(listener: (event: HostEvent) => void): () => void;
}

// ---------------------------------------------------------------------------------------------
// Channel names of the Electron IPC bridge, derived from the table.

export const IPC_PREFIX = 'strata:';
export const IPC_EVENT_CHANNEL = 'strata:event';
/**
 * The preload tells main, on this channel, the path of each File the user dropped or picked;
 * main lets `sendFile` send those paths only. Not a method: the page cannot call it.
 */
export const IPC_GRANT_FILE_CHANNEL = 'strata:grant-file';
export const ipcChannel = (m: MethodName): string => `${IPC_PREFIX}${m}`;

// ---------------------------------------------------------------------------------------------
// The browser host's WebSocket messages.

export type WireRequest = { id: number; method: string; params: unknown };
export type WireResponse =
  { id: number; result: unknown } | { id: number; error: ApiErrorBody } | { event: HostEvent };

// ---------------------------------------------------------------------------------------------
// The Electron bridge. The preload exposes this raw, data-only surface (errors travel as data,
// since an Error's class and fields do not survive contextBridge or IPC); the renderer turns it
// into a StrataApi with apiFromBridge, the same function the contract tests use.

export type Envelope = { ok: true; result: unknown } | { ok: false; error: ApiErrorBody };

export interface RawBridge {
  invoke(method: string, params: unknown): Promise<Envelope>;
  /** Receives each host event (the IPC event object itself never crosses). */
  onEvent(listener: (event: HostEvent) => void): () => void;
}

/** Turns any thrown value into the error body that crosses a bridge. */
export function errorBody(e: unknown): ApiErrorBody {
  if (e instanceof ApiError) return { code: e.code, message: e.message };
  if (e instanceof ContractError) return { code: 'invalid', message: e.message };
  return { code: 'internal', message: e instanceof Error ? e.message : String(e) };
}

export function apiFromBridge(bridge: RawBridge): StrataApi {
  return {
    async call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
      const reply = await bridge.invoke(method, params);
      if (!reply.ok) throw new ApiError(reply.error.code, reply.error.message);
      return reply.result as Result<M>;
    },
    subscribe: (listener) => bridge.onEvent(listener),
  };
}
