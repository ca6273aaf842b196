// The two carriers of the renderer's API, for suites that run against both: the browser host
// (Host + web server + the renderer's WebSocket client) and the Electron bridge (Host + main's
// IPC handlers + the preload's bridge + apiFromBridge, over an in-memory IPC that serialises
// like Electron's; no Electron binary here). And how such a suite waits on events and errors.
import { expect } from 'vitest';
import { WebSocket } from 'ws';
import type { Host } from '../../src/core/host/host.ts';
import { startWebServer, type WebServer } from '../../src/core/host/web-server.ts';
import { forwardEvents, registerIpc, trustedSenderCheck } from '../../src/main/ipc.ts';
import { createBridge } from '../../src/preload/bridge.ts';
import { WsApiClient, type SocketLike } from '../../src/renderer/src/api/ws-client.ts';
import {
  ApiError,
  apiFromBridge,
  type HostEvent,
  type StrataApi,
} from '../../src/shared/contract.ts';
import { createFakeIpc } from './fake-ipc.ts';
import { staticFixture } from './static-fixture.ts';

/** A renderer's view of one app instance, and how to take it down. */
export interface Instance {
  api: StrataApi;
  host: Host;
  close(): Promise<void>;
}

export async function viaWebSocket(host: Host): Promise<Instance> {
  const server: WebServer = await startWebServer({ host, staticDir: staticFixture() });
  const origin = `http://127.0.0.1:${server.port}`;
  const client = new WsApiClient({
    url: `ws://127.0.0.1:${server.port}/api?token=${server.token}`,
    // Browsers send the page's Origin on every WebSocket; `ws` does when told to.
    createSocket: (u) => new WebSocket(u, { origin }) as unknown as SocketLike,
  });
  await client.connect();
  return {
    api: client,
    host,
    async close() {
      client.close();
      await server.close();
      await host.close();
    },
  };
}

export async function viaIpc(host: Host): Promise<Instance> {
  const appUrl = 'file:///opt/Strata/resources/app.asar/out/renderer/index.html';
  const ipc = createFakeIpc(appUrl);
  const unregister = registerIpc(ipc.ipcMain, host, trustedSenderCheck(appUrl));
  const unforward = forwardEvents(host, ipc.webContents);
  return {
    api: apiFromBridge(createBridge(ipc.ipcRenderer)),
    host,
    async close() {
      unforward();
      unregister();
      await host.close();
    },
  };
}

export const CARRIERS = [
  ['browser host (WebSocket)', viaWebSocket, 'browser'],
  ['Electron bridge (IPC)', viaIpc, 'electron'],
] as const;

/** Collects an API's events and waits on them. */
export class Events {
  readonly seen: HostEvent[] = [];
  private waiters: (() => void)[] = [];
  constructor(api: StrataApi) {
    api.subscribe((e) => {
      this.seen.push(e);
      for (const w of this.waiters.splice(0)) w();
    });
  }
  async until<T>(pick: (e: HostEvent) => T | undefined): Promise<T> {
    for (let i = 0; ;) {
      for (; i < this.seen.length; i++) {
        const v = pick(this.seen[i]!);
        if (v !== undefined) return v;
      }
      await new Promise<void>((r) => this.waiters.push(r));
    }
  }
}

export async function apiError(p: Promise<unknown>): Promise<ApiError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(ApiError);
    return e as ApiError;
  }
  throw new Error('expected the call to fail');
}

/**
 * Resolves once the instance's account is registered on the relay: before that, its name is
 * unknown there and a message to it is refused.
 */
export async function registered(api: StrataApi): Promise<void> {
  const events = new Events(api);
  if ((await api.call('account', {}))?.state === 'registered') return;
  await events.until((e) =>
    e.type === 'account' && e.account.state === 'registered' ? true : undefined,
  );
}
