// The renderer's API over the browser host's WebSocket: requests carry an id and resolve with
// the matching response; events arrive unasked. When the socket drops, pending calls fail at
// once (never hang), and the client reconnects with backoff; `subscribe` listeners then get a
// connection event so that the UI can show that its host is gone.
import {
  ApiError,
  HOST_BACK,
  HOST_LOST,
  type ApiErrorBody,
  type HostEvent,
  type MethodName,
  type Params,
  type Result,
  type StrataApi,
  type WireResponse,
} from '../../../shared/contract.ts';

/** Minimal WebSocket surface: the browser's, or Node's global one in tests. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: 'open' | 'close' | 'error' | 'message',
    listener: (e: unknown) => void,
  ): void;
}

const OPEN = 1;
const RECONNECT_MIN_MS = 200;
const RECONNECT_MAX_MS = 5000;

export interface WsClientOptions {
  /** The ws:// address of the host's API, with its token. */
  url: string;
  createSocket?: (url: string) => SocketLike;
}

export class WsApiClient implements StrataApi {
  private readonly url: string;
  private readonly createSocket: (url: string) => SocketLike;
  private socket: SocketLike | null = null;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (v: unknown) => void; reject: (e: Error) => void }
  >();
  private readonly listeners = new Set<(e: HostEvent) => void>();
  private opened: Promise<void> | null = null;
  private attempts = 0;
  private closed = false;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(options: WsClientOptions) {
    this.url = options.url;
    this.createSocket = options.createSocket ?? ((u) => new WebSocket(u) as SocketLike);
  }

  /** Resolves once the socket is open; rejects if the first attempt fails. */
  connect(): Promise<void> {
    this.opened ??= new Promise<void>((resolve, reject) => {
      this.open(resolve, reject);
    });
    return this.opened;
  }

  private open(onOpen?: () => void, onFail?: (e: Error) => void): void {
    const socket = this.createSocket(this.url);
    this.socket = socket;
    let wasOpen = false;
    socket.addEventListener('open', () => {
      wasOpen = true;
      this.attempts = 0;
      onOpen?.();
      if (!onOpen) this.dispatch({ type: 'connection', state: 'connecting', detail: HOST_BACK });
    });
    socket.addEventListener('message', (e) => this.onMessage((e as { data: unknown }).data));
    socket.addEventListener('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      const why = new ApiError('unreachable', 'the connection to the app host was lost');
      for (const p of this.pending.values()) p.reject(why);
      this.pending.clear();
      if (!wasOpen && onFail) {
        onFail(new ApiError('unreachable', `cannot reach the app host at ${redact(this.url)}`));
        this.opened = null;
        return;
      }
      if (this.closed) return;
      if (wasOpen) this.dispatch({ type: 'connection', state: 'offline', detail: HOST_LOST });
      const delay = Math.min(RECONNECT_MAX_MS, RECONNECT_MIN_MS * 2 ** this.attempts++);
      this.timer = setTimeout(() => this.open(), delay);
    });
  }

  private onMessage(data: unknown): void {
    if (typeof data !== 'string') return;
    let msg: WireResponse;
    try {
      msg = JSON.parse(data) as WireResponse;
    } catch {
      return;
    }
    if ('event' in msg) {
      this.dispatch(msg.event);
      return;
    }
    const p = this.pending.get(msg.id);
    if (!p) return;
    this.pending.delete(msg.id);
    if ('error' in msg) p.reject(toApiError(msg.error));
    else p.resolve(msg.result);
  }

  private dispatch(event: HostEvent): void {
    for (const l of this.listeners) l(event);
  }

  call<M extends MethodName>(method: M, params: Params<M>): Promise<Result<M>> {
    const socket = this.socket;
    if (socket === null || socket.readyState !== OPEN) {
      return Promise.reject(new ApiError('unreachable', 'the app host is not connected'));
    }
    const id = this.nextId++;
    return new Promise<Result<M>>((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      socket.send(JSON.stringify({ id, method, params }));
    });
  }

  subscribe(listener: (event: HostEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    this.socket?.close(1000, 'closing');
  }
}

export function toApiError(body: ApiErrorBody): ApiError {
  return new ApiError(body.code, body.message);
}

function redact(url: string): string {
  return url.replace(/token=[^&]*/, 'token=…');
}
