// The main process's end of host-link.ts: the host process seen as the bridge's CallTarget, with
// its events. The bridge (ipc.ts) has already checked each call's sender frame and parameters;
// the Host in the host process checks the parameters again.
import { EventEmitter } from 'node:events';
import type { HostOptions } from '../core/host/host.ts';
import type { FolderPicker } from '../core/host/local-files.ts';
import {
  ApiError,
  errorBody,
  type ApiErrorBody,
  type Envelope,
  type HostEvent,
} from '../shared/contract.ts';
import type { FromHost, Link, ToHost } from './host-link.ts';
import type { CallTarget } from './ipc.ts';

export class HostClient extends EventEmitter<{ event: [HostEvent] }> implements CallTarget {
  /** Opens finished files for the Host (Electron's shell); without one, openFile fails. */
  opener: ((path: string, reveal: boolean) => Promise<void>) | null = null;
  /** Shows the folder picker for the Host (Electron's dialog); without one, the Host refuses. */
  folderPicker: FolderPicker | null = null;
  private readonly link: Link;
  private readonly calls = new Map<number, (envelope: Envelope) => void>();
  private nextCall = 1;
  private readonly waiters: { ready: ((error: string | null) => void)[]; closed: (() => void)[] } =
    { ready: [], closed: [] };
  private goneReason: string | null = null;

  constructor(link: Link) {
    super();
    this.link = link;
    link.onMessage((m) => this.receive(m as FromHost));
  }

  /** Opens the profile in the host process; rejects with the reason it could not. */
  async open(options: HostOptions): Promise<void> {
    const error = await new Promise<string | null>((resolve) => {
      if (this.goneReason !== null) return resolve(this.goneReason);
      this.waiters.ready.push(resolve);
      this.post({ type: 'open', options });
    });
    if (error !== null) throw new Error(error);
  }

  call(method: unknown, params: unknown): Promise<unknown> {
    if (this.goneReason !== null) {
      return Promise.reject(new ApiError('unreachable', this.goneReason));
    }
    const id = this.nextCall++;
    return new Promise((resolve, reject) => {
      this.calls.set(id, (envelope) => {
        if (envelope.ok) resolve(envelope.result);
        else reject(new ApiError(envelope.error.code, envelope.error.message));
      });
      this.post({ type: 'call', id, method: method as string, params });
    });
  }

  /** A path the user chose in the page (registerFileGrants): the Host may send it. */
  grant(path: string): void {
    this.post({ type: 'grant', path });
  }

  /** Closes the profile; resolves once it is closed or the host process is gone. */
  close(): Promise<void> {
    if (this.goneReason !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.waiters.closed.push(resolve);
      this.post({ type: 'close' });
    });
  }

  /** The host process ended: every call waiting and to come fails, close() resolves. */
  gone(reason: string): void {
    if (this.goneReason !== null) return;
    this.goneReason = reason;
    const failed: Envelope = { ok: false, error: { code: 'unreachable', message: reason } };
    for (const settle of this.calls.values()) settle(failed);
    this.calls.clear();
    for (const ready of this.waiters.ready.splice(0)) ready(reason);
    for (const closed of this.waiters.closed.splice(0)) closed();
  }

  private post(message: ToHost): void {
    this.link.post(message);
  }

  private receive(m: FromHost): void {
    switch (m.type) {
      case 'ready':
        for (const ready of this.waiters.ready.splice(0)) ready(m.error);
        break;
      case 'reply': {
        const settle = this.calls.get(m.id);
        this.calls.delete(m.id);
        settle?.(m.envelope);
        break;
      }
      case 'event':
        this.emit('event', m.event);
        break;
      case 'openPath':
        void this.openPath(m.id, m.path, m.reveal);
        break;
      case 'pickFolder':
        void this.pickFolder(m.id, m.current);
        break;
      case 'closed':
        for (const closed of this.waiters.closed.splice(0)) closed();
        break;
    }
  }

  private async pickFolder(id: number, current: string): Promise<void> {
    let path: string | null = null;
    let error: ApiErrorBody | null = null;
    try {
      if (this.folderPicker === null)
        throw new ApiError('refused', 'this app has no folder picker');
      path = await this.folderPicker(current);
    } catch (e) {
      error = errorBody(e);
    }
    this.post({ type: 'picked', id, path, error });
  }

  private async openPath(id: number, path: string, reveal: boolean): Promise<void> {
    let error: ApiErrorBody | null = null;
    try {
      if (this.opener === null) throw new ApiError('refused', 'this app cannot open files');
      await this.opener(path, reveal);
    } catch (e) {
      error = errorBody(e);
    }
    this.post({ type: 'opened', id, error });
  }
}
