import { describe, expect, it } from 'vitest';
import { createFakeIpc } from '../../test/helpers/fake-ipc.ts';
import { forwardEvents, registerIpc, trustedSenderCheck } from '../main/ipc.ts';
import { ApiError, apiFromBridge, type HostEvent } from '../shared/contract.ts';
import { createBridge } from './bridge.ts';

const APP = 'file:///app/out/renderer/index.html';

/** A stand-in for the core Host: answers calls with `answer`, emits the events a test gives it. */
function fakeHost(answer: (method: unknown, params: unknown) => unknown) {
  const listeners = new Set<(e: HostEvent) => void>();
  return {
    call: async (method: unknown, params: unknown) => answer(method, params),
    on: (_: 'event', l: (e: HostEvent) => void) => listeners.add(l),
    off: (_: 'event', l: (e: HostEvent) => void) => listeners.delete(l),
    emit: (_: 'event', e: HostEvent) => listeners.forEach((l) => l(e)),
  };
}

/** Main and preload wired through the in-memory IPC, with a host stand-in behind them. */
function wired(answer: (method: unknown, params: unknown) => unknown) {
  const ipc = createFakeIpc(APP);
  const host = fakeHost(answer);
  registerIpc(ipc.ipcMain, host, trustedSenderCheck(APP));
  forwardEvents(host, ipc.webContents);
  const bridge = createBridge(ipc.ipcRenderer);
  return { ipc, host, bridge, api: apiFromBridge(bridge) };
}

/** Resolves with the next event (and the arguments it came with) that `bridge` delivers. */
function nextEvent(bridge: ReturnType<typeof createBridge>): Promise<unknown[]> {
  return new Promise((resolve) => {
    const stop = bridge.onEvent((...args: unknown[]) => {
      stop();
      resolve(args);
    });
  });
}

describe('createBridge', () => {
  it.each(['nuke', '__proto__', 'constructor', 'toString', 'strata:send', ''])(
    'refuses the method %j without touching IPC',
    async (method) => {
      const { ipc, bridge } = wired(() => 'never');
      await expect(bridge.invoke(method, {})).resolves.toEqual({
        ok: false,
        error: { code: 'forbidden', message: `unknown method ${method}` },
      });
      expect(ipc.invocations).toEqual([]);
    },
  );

  it('invokes a method of the contract on its own channel', async () => {
    const { ipc, bridge } = wired((m, p) => [m, p]);
    await expect(bridge.invoke('markRead', { peer: 'bob' })).resolves.toEqual({
      ok: true,
      result: ['markRead', { peer: 'bob' }],
    });
    expect(ipc.invocations).toEqual(['strata:markRead']);
  });

  it('delivers events with the payload only, never the IPC event object', async () => {
    const { host, bridge } = wired(() => null);
    const event: HostEvent = { type: 'connection', state: 'online' };
    const arrived = nextEvent(bridge);
    host.emit('event', event);
    expect(await arrived).toEqual([event]);
  });

  it('stops delivering after unsubscribe, and leaves no listener behind', async () => {
    const { ipc, host, bridge } = wired(() => null);
    const seen: unknown[] = [];
    const stop = bridge.onEvent((e) => seen.push(e));
    expect(ipc.listenerCount('strata:event')).toBe(1);
    stop();
    expect(ipc.listenerCount('strata:event')).toBe(0);
    // A later subscriber sees the next event; the unsubscribed one must not.
    const arrived = nextEvent(bridge);
    host.emit('event', { type: 'typing', user: 'bob', typing: false });
    await arrived;
    expect(seen).toEqual([]);
  });

  it('is frozen: the page cannot swap its functions', () => {
    const { bridge } = wired(() => null);
    expect(Object.isFrozen(bridge)).toBe(true);
  });
});

describe('apiFromBridge over IPC', () => {
  it('rethrows errors as ApiError with the code they crossed with', async () => {
    const { api } = wired(() => {
      throw new ApiError('unreachable', 'relay down');
    });
    const failure = api.call('presence', {}).catch((e: unknown) => e);
    const error = await failure;
    expect(error).toBeInstanceOf(ApiError);
    expect(error).toMatchObject({ code: 'unreachable', message: 'relay down' });
  });

  it('reports invalid parameters from main as code invalid', async () => {
    const { api } = wired(() => 'never');
    await expect(api.call('history', { peer: 'bob', limit: 0 } as never)).rejects.toMatchObject({
      code: 'invalid',
      message: 'params.limit must be an integer from 1 to 1000',
    });
  });
});
