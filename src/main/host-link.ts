// The channel between the Electron main process and the host process (host-process.ts), which
// runs the core Host in an Electron utilityProcess so that its SQLite calls and file reads never
// compete with the window's input. Both ends are plain Node code over a small Link, so tests
// drive them through a Node MessagePort or a forked process instead of Electron.
import type { HostOptions } from '../core/host/host.ts';
import type { ApiErrorBody, Envelope, HostEvent } from '../shared/contract.ts';

/** From the main process to the host process. */
export type ToHost =
  /** Open the profile (first message, once). */
  | { type: 'open'; options: HostOptions }
  /** A renderer call the main process has checked (sender frame, method, parameters). */
  | { type: 'call'; id: number; method: string; params: unknown }
  /** A path the user dropped or picked in the app's page: sendFile may send it. */
  | { type: 'grant'; path: string }
  /** The answer to an openPath request. */
  | { type: 'opened'; id: number; error: ApiErrorBody | null }
  /** The answer to a pickFolder request: the folder the user chose, or null if cancelled. */
  | { type: 'picked'; id: number; path: string | null; error: ApiErrorBody | null }
  /** Close the profile, then say 'closed'. */
  | { type: 'close' };

/** From the host process to the main process. */
export type FromHost =
  /** The profile is open (error null) or could not be opened. */
  | { type: 'ready'; error: string | null }
  | { type: 'reply'; id: number; envelope: Envelope }
  | { type: 'event'; event: HostEvent }
  /** Open a finished file (or show it in its folder): only the main process has a shell. */
  | { type: 'openPath'; id: number; path: string; reveal: boolean }
  /** Show the folder picker on `current` (chooseDownloadsDir): only main has dialogs. */
  | { type: 'pickFolder'; id: number; current: string }
  | { type: 'closed' };

/**
 * One end of the channel. Electron: process.parentPort in the host process, the UtilityProcess
 * in the main process. Messages are structured clones; each end sees the other's in order.
 */
export interface Link {
  post(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
}
