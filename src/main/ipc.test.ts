import { EventEmitter } from 'node:events';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { createFakeIpc } from '../../test/helpers/fake-ipc.ts';
import {
  ApiError,
  IPC_EVENT_CHANNEL,
  IPC_GRANT_FILE_CHANNEL,
  METHOD_NAMES,
  ipcChannel,
  type Envelope,
  type HostEvent,
} from '../shared/contract.ts';
import { forwardEvents, registerFileGrants, registerIpc, trustedSenderCheck } from './ipc.ts';

const APP = pathToFileURL('/opt/Strata/resources/app.asar/out/renderer/index.html').href;

/** A stand-in for the core Host: records calls and answers with `answer`. */
function fakeHost(answer: (method: unknown, params: unknown) => unknown = () => 'done') {
  const calls: [unknown, unknown][] = [];
  return {
    calls,
    async call(method: unknown, params: unknown) {
      calls.push([method, params]);
      return answer(method, params);
    },
  };
}

function setup(answer?: (method: unknown, params: unknown) => unknown) {
  const ipc = createFakeIpc(APP);
  const host = fakeHost(answer);
  const unregister = registerIpc(ipc.ipcMain, host, trustedSenderCheck(APP));
  const invoke = (method: string, params: unknown) =>
    ipc.ipcRenderer.invoke(ipcChannel(method as never), params) as Promise<Envelope>;
  return { ipc, host, unregister, invoke };
}

describe('registerIpc', () => {
  it('handles exactly one channel per method of the contract, and removes them all', () => {
    const { ipc, unregister } = setup();
    expect(ipc.handledChannels().sort()).toEqual(METHOD_NAMES.map(ipcChannel).sort());
    unregister();
    expect(ipc.handledChannels()).toEqual([]);
  });

  it('passes a valid call from the app page to the host and returns its result', async () => {
    const { host, invoke } = setup((m, p) => ({ echoed: [m, p] }));
    const reply = await invoke('send', { to: 'bob', text: 'hello' });
    expect(reply).toEqual({ ok: true, result: { echoed: ['send', { to: 'bob', text: 'hello' }] } });
    expect(host.calls).toEqual([['send', { to: 'bob', text: 'hello' }]]);
  });

  it('gives the host an empty object for a method without parameters called with none', async () => {
    const { host, invoke } = setup();
    await expect(invoke('session', undefined)).resolves.toEqual({ ok: true, result: 'done' });
    expect(host.calls).toEqual([['session', {}]]);
  });

  it.each([
    ['another file', pathToFileURL('/tmp/evil.html').href],
    ['a web page', 'https://evil.example/'],
    ['a frame that is gone', null],
  ])('refuses a call from %s with forbidden, without calling the host', async (_, url) => {
    const { ipc, host, invoke } = setup();
    ipc.webContents.setSenderUrl(url);
    const reply = await invoke('conversations', {});
    expect(reply).toEqual({
      ok: false,
      error: {
        code: 'forbidden',
        message: 'conversations was called from a frame that is not the app',
      },
    });
    expect(host.calls).toEqual([]);
  });

  it.each([
    [{ to: 'bob' }, 'params.text is required'],
    [{ to: 'bob', text: 'hi', extra: 1 }, 'params.extra is not expected'],
    [{ to: 'bob/../x', text: 'hi' }, 'params.to must be a user name'],
    ['send bob hi', 'params must be an object'],
  ])('refuses invalid parameters %j with a clear message', async (params, message) => {
    const { host, invoke } = setup();
    const reply = await invoke('send', params);
    expect(reply.ok).toBe(false);
    if (reply.ok) return;
    expect(reply.error.code).toBe('invalid');
    expect(reply.error.message).toContain(message);
    expect(host.calls).toEqual([]);
  });

  it('returns the host errors as envelopes that keep their codes', async () => {
    const { invoke } = setup((method) => {
      if (method === 'send') throw new ApiError('notLoggedIn', 'log in first');
      if (method === 'relayStats') throw new Error('disk on fire');
      throw 'a thrown string';
    });
    await expect(invoke('send', { to: 'bob', text: 'x' })).resolves.toEqual({
      ok: false,
      error: { code: 'notLoggedIn', message: 'log in first' },
    });
    await expect(invoke('relayStats', {})).resolves.toEqual({
      ok: false,
      error: { code: 'internal', message: 'disk on fire' },
    });
    await expect(invoke('presence', {})).resolves.toEqual({
      ok: false,
      error: { code: 'internal', message: 'a thrown string' },
    });
  });
});

describe('trustedSenderCheck', () => {
  it('trusts only the app page, with any query or fragment', () => {
    const trusted = trustedSenderCheck(APP);
    expect(trusted({ url: APP })).toBe(true);
    expect(trusted({ url: `${APP}?x=1#chat` })).toBe(true);
    expect(trusted({ url: pathToFileURL('/opt/Strata/other.html').href })).toBe(false);
    expect(trusted({ url: 'about:blank' })).toBe(false);
    expect(trusted(null)).toBe(false);
  });

  it('trusts the dev server origin in development, and no other', () => {
    const trusted = trustedSenderCheck('http://localhost:5173/');
    expect(trusted({ url: 'http://localhost:5173/index.html' })).toBe(true);
    expect(trusted({ url: 'http://localhost:5174/' })).toBe(false);
    expect(trusted({ url: APP })).toBe(false);
  });
});

describe('forwardEvents', () => {
  const event: HostEvent = { type: 'typing', user: 'bob', typing: true };

  it('sends each host event on the event channel while the page lives, then stops', () => {
    const host = new EventEmitter<{ event: [HostEvent] }>();
    const sent: [string, unknown][] = [];
    let destroyed = false;
    const stop = forwardEvents(host, {
      isDestroyed: () => destroyed,
      send: (channel, payload) => sent.push([channel, payload]),
    });
    host.emit('event', event);
    expect(sent).toEqual([[IPC_EVENT_CHANNEL, event]]);
    destroyed = true;
    host.emit('event', event);
    expect(sent).toHaveLength(1);
    destroyed = false;
    stop();
    host.emit('event', event);
    expect(sent).toHaveLength(1);
    expect(host.listenerCount('event')).toBe(0);
  });
});

describe('registerFileGrants', () => {
  const app = pathToFileURL('/opt/Strata/out/renderer/index.html').href;

  it('allows sendFile only the paths the preload reported from the app page', () => {
    const ipcMain = new EventEmitter();
    const grants = registerFileGrants(ipcMain as never, trustedSenderCheck(app));
    const send = (url: string | null, path: unknown) =>
      ipcMain.emit(IPC_GRANT_FILE_CHANNEL, { senderFrame: url === null ? null : { url } }, path);
    expect(grants.allowed('/home/ann/photo.jpg')).toBe(false);
    send(app, '/home/ann/photo.jpg');
    expect(grants.allowed('/home/ann/photo.jpg')).toBe(true);
    // Another frame, a gone frame, or a value that is not a path grants nothing.
    send('https://evil.example/', '/home/ann/.ssh/id_ed25519');
    send(null, '/etc/shadow');
    send(app, { toString: () => '/etc/passwd' });
    send(app, '');
    expect(grants.allowed('/home/ann/.ssh/id_ed25519')).toBe(false);
    expect(grants.allowed('/etc/shadow')).toBe(false);
    expect(grants.allowed('/etc/passwd')).toBe(false);
    grants.unregister();
    expect(ipcMain.listenerCount(IPC_GRANT_FILE_CHANNEL)).toBe(0);
  });

  it('passes on only the paths it grants (to the host process)', () => {
    const ipcMain = new EventEmitter();
    const passed: string[] = [];
    registerFileGrants(ipcMain as never, trustedSenderCheck(app), (path) => passed.push(path));
    const send = (url: string, path: unknown) =>
      ipcMain.emit(IPC_GRANT_FILE_CHANNEL, { senderFrame: { url } }, path);
    send('https://evil.example/', '/home/ann/.ssh/id_ed25519');
    send(app, 42);
    send(app, '/home/ann/photo.jpg');
    expect(passed).toEqual(['/home/ann/photo.jpg']);
  });
});
