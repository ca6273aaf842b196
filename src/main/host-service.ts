// The host process's end of host-link.ts: the core Host, the same one the browser host runs,
// answering the main process's messages. Nothing here knows Electron.
import { Host } from '../core/host/host.ts';
import { ApiError, errorBody, type ApiErrorBody, type Envelope } from '../shared/contract.ts';
import type { FromHost, Link, ToHost } from './host-link.ts';

/** Serves one profile over `link`, from its 'open' message to its 'close'. */
export function serveHost(link: Link): void {
  const post = (m: FromHost) => link.post(m);
  let host: Host | null = null;
  let opening: Promise<void> | null = null;
  const granted = new Set<string>();
  /** Requests to the main process (open a file, pick a folder) awaiting their answer. */
  const asked = new Map<
    number,
    { resolve: (value: unknown) => void; reject: (e: Error) => void }
  >();
  let nextAsk = 1;
  const ask = <T>(request: (id: number) => FromHost): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      const id = nextAsk++;
      asked.set(id, { resolve: resolve as (value: unknown) => void, reject });
      post(request(id));
    });
  const answer = (id: number, value: unknown, error: ApiErrorBody | null) => {
    const waiter = asked.get(id);
    asked.delete(id);
    if (error === null) waiter?.resolve(value);
    else waiter?.reject(new ApiError(error.code, error.message));
  };

  const open = async (options: Extract<ToHost, { type: 'open' }>['options']) => {
    let opened: Host;
    try {
      opened = await Host.open(options);
    } catch (e) {
      post({ type: 'ready', error: e instanceof Error ? e.message : String(e) });
      return;
    }
    opened.pathPolicy = (path) => granted.has(path);
    opened.opener = (path, reveal) => ask<void>((id) => ({ type: 'openPath', id, path, reveal }));
    opened.folderPicker = (current) =>
      ask<string | null>((id) => ({ type: 'pickFolder', id, current }));
    opened.on('event', (event) => post({ type: 'event', event }));
    host = opened;
    post({ type: 'ready', error: null });
  };

  const call = async (id: number, method: string, params: unknown) => {
    let envelope: Envelope;
    try {
      await opening;
      if (host === null) throw new Error('the profile is not open');
      envelope = { ok: true, result: await host.call(method, params) };
    } catch (e) {
      envelope = { ok: false, error: errorBody(e) };
    }
    post({ type: 'reply', id, envelope });
  };

  link.onMessage((raw) => {
    const m = raw as ToHost;
    switch (m.type) {
      case 'open':
        opening ??= open(m.options);
        break;
      case 'call':
        void call(m.id, m.method, m.params);
        break;
      case 'grant':
        granted.add(m.path);
        break;
      case 'opened':
        answer(m.id, undefined, m.error);
        break;
      case 'picked':
        answer(m.id, m.path, m.error);
        break;
      case 'close':
        void (async () => {
          await opening;
          await host?.close();
          post({ type: 'closed' });
        })();
        break;
    }
  });
}
