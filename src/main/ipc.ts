// The main-process end of the bridge: one IPC handler per method of the contract. Every call is
// checked three times before the host sees it: the channel exists only for a method of the
// table, the frame that sent it must be the app's own page, and its parameters must pass the
// method's validator. Whatever happens, the renderer gets an Envelope back, never a thrown error
// (Electron would flatten it into a string and lose its code).
import type { IpcMain, IpcMainInvokeEvent } from 'electron';
import {
  ApiError,
  IPC_EVENT_CHANNEL,
  IPC_GRANT_FILE_CHANNEL,
  METHOD_NAMES,
  errorBody,
  ipcChannel,
  validateCall,
  type Envelope,
  type HostEvent,
  type MethodName,
} from '../shared/contract.ts';
import { isAllowedNavigation } from './security.ts';

/** The part of the core Host (src/core/host/host.ts) the bridge needs. */
export interface CallTarget {
  call(method: unknown, params: unknown): Promise<unknown>;
}

/** The frame an IPC message came from: null once the frame has navigated away or been destroyed. */
export type SenderFrame = { url: string } | null;

export type IpcHandlers = Pick<IpcMain, 'handle' | 'removeHandler'>;

/**
 * A sender check with the same rule as navigation: only a frame showing the app itself (its
 * index.html in production, the dev server's origin in development) may call the host.
 */
export function trustedSenderCheck(appOrigin: string): (frame: SenderFrame) => boolean {
  return (frame) => frame !== null && isAllowedNavigation(frame.url, appOrigin);
}

/**
 * Paths the user chose (dropped or picked in the page, resolved by the preload), the only ones
 * `sendFile` may send: a page that was taken over cannot name /home/you/.ssh/id_ed25519.
 * Returns the policy for Host.pathPolicy and the function removing the listener; `onGrant`
 * hears each path granted (to pass it on to the host process).
 */
export function registerFileGrants(
  ipcMain: Pick<IpcMain, 'on' | 'removeListener'>,
  isTrustedSender: (frame: SenderFrame) => boolean,
  onGrant: (path: string) => void = () => {},
): { allowed: (path: string) => boolean; unregister: () => void } {
  const granted = new Set<string>();
  const listener = (event: { senderFrame: SenderFrame }, path: unknown) => {
    if (!isTrustedSender(event.senderFrame)) return;
    if (typeof path !== 'string' || path === '' || path.length > 4096) return;
    granted.add(path);
    onGrant(path);
  };
  ipcMain.on(IPC_GRANT_FILE_CHANNEL, listener as never);
  return {
    allowed: (path) => granted.has(path),
    unregister: () => ipcMain.removeListener(IPC_GRANT_FILE_CHANNEL, listener as never),
  };
}

/** Handles one call; exported for tests that bypass the IPC layer. */
export async function dispatch(
  host: CallTarget,
  method: MethodName,
  frame: SenderFrame,
  isTrustedSender: (frame: SenderFrame) => boolean,
  params: unknown,
): Promise<Envelope> {
  try {
    if (!isTrustedSender(frame)) {
      throw new ApiError('forbidden', `${method} was called from a frame that is not the app`);
    }
    const valid = validateCall(method, params);
    return { ok: true, result: await host.call(method, valid) };
  } catch (e) {
    return { ok: false, error: errorBody(e) };
  }
}

/** Registers a handler for every method of the contract; returns the function removing them. */
export function registerIpc(
  ipcMain: IpcHandlers,
  host: CallTarget,
  isTrustedSender: (frame: SenderFrame) => boolean,
): () => void {
  for (const method of METHOD_NAMES) {
    ipcMain.handle(ipcChannel(method), (event: IpcMainInvokeEvent, params: unknown) =>
      dispatch(host, method, event.senderFrame, isTrustedSender, params),
    );
  }
  return () => {
    for (const method of METHOD_NAMES) ipcMain.removeHandler(ipcChannel(method));
  };
}

/** The part of a WebContents that events are sent through. */
export interface EventSink {
  isDestroyed(): boolean;
  send(channel: string, payload: unknown): void;
}

/** Forwards host events to a window's page; returns the function that stops forwarding. */
export function forwardEvents(
  host: {
    on(name: 'event', l: (e: HostEvent) => void): unknown;
    off(name: 'event', l: (e: HostEvent) => void): unknown;
  },
  contents: EventSink,
): () => void {
  const forward = (event: HostEvent) => {
    if (!contents.isDestroyed()) contents.send(IPC_EVENT_CHANNEL, event);
  };
  host.on('event', forward);
  return () => {
    host.off('event', forward);
  };
}
