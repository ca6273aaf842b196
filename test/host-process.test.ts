// The desktop app's host process (src/main/host-process.ts, an Electron utilityProcess) run as
// its own process under plain Node, with a stand-in for process.parentPort, and driven by the
// main process's end (HostClient) with the real relay and engine behind it.
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { MessageView } from '../src/shared/api.ts';
import {
  ipcChannel,
  type Envelope,
  type HostEvent,
  type MethodName,
  type SessionView,
} from '../src/shared/contract.ts';

const APP = 'file:///opt/Strata/resources/app.asar/out/renderer/index.html';
import type { Dialog, OpenDialogOptions } from 'electron';
import { createFolderPicker } from '../src/main/folder-picker.ts';
import { HostClient } from '../src/main/host-client.ts';
import { registerIpc, trustedSenderCheck } from '../src/main/ipc.ts';
import { createFakeIpc } from './helpers/fake-ipc.ts';
import type { Link } from '../src/main/host-link.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

const ENTRY = fileURLToPath(new URL('../src/main/host-process.ts', import.meta.url));
/** The entry as the app ships it (electron-vite build, run before the integration tests). */
const BUNDLED = fileURLToPath(new URL('../out/main/host-process.js', import.meta.url));
const PARENT_PORT = fileURLToPath(new URL('./helpers/parent-port.ts', import.meta.url));

let relay: RelayProcess;
const children: ChildProcess[] = [];
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  await Promise.all(
    children.map(
      (child) =>
        new Promise<void>((resolve) => {
          if (child.exitCode !== null || child.signalCode !== null) return resolve();
          child.once('exit', () => resolve());
          child.kill();
        }),
    ),
  );
  await relay.stop();
});

/** A host process for `user`, as index.ts forks it, and the client that drives it. */
/**
 * The link to a forked host process. As Electron's utilityProcess.postMessage, a message to a
 * process that is gone is dropped (its exit tells the client), rather than thrown as EPIPE.
 */
function linkTo(child: ChildProcess): Link {
  return {
    post: (message) => child.send(message as never, () => undefined),
    onMessage: (listener) => child.on('message', listener),
  };
}

async function hostProcess(
  user: string,
  entry = ENTRY,
  profileDir = tempDir(`strata-host-${user}-`),
): Promise<{ client: HostClient; child: ChildProcess }> {
  const child = fork(entry, [], {
    execArgv: ['--import', PARENT_PORT],
    serialization: 'advanced',
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.push(child);
  const client = new HostClient(linkTo(child));
  child.once('exit', (code) => client.gone(`the host process exited (${code})`));
  await client.open({
    profileDir,
    kind: 'electron',
    relayUrl: relay.url,
    user,
  });
  return { client, child };
}

function nextEvent(client: HostClient, test: (e: HostEvent) => boolean): Promise<HostEvent> {
  return new Promise((resolve) => {
    const on = (e: HostEvent) => {
      if (!test(e)) return;
      client.off('event', on);
      resolve(e);
    };
    client.on('event', on);
  });
}

describe('the host process', () => {
  it('carries calls, events, file grants and closing between the main process and the Host', async () => {
    const bob = await hostProcess('bob');
    await relay.waitForLog(/hello bob\//);
    const alice = await hostProcess('alice');
    expect(await alice.client.call('session', {})).toMatchObject({
      user: 'alice',
      host: 'electron',
    });

    const text = 'hello through the host process';
    const arrived = nextEvent(
      bob.client,
      (e) => e.type === 'message' && e.message.direction === 'in' && e.message.text === text,
    );
    const sent = (await alice.client.call('send', { to: 'bob', text })) as MessageView;
    expect(sent).toMatchObject({ author: 'alice', peer: 'bob', text });
    expect(await arrived).toMatchObject({ message: { author: 'alice', text } });

    // The Host in the host process checks parameters itself and says why, with its code.
    await expect(alice.client.call('send', { to: 'bob' })).rejects.toMatchObject({
      code: 'invalid',
    });
    // A path reaches sendFile only once the main process has passed on the user's choice.
    const path = join(tempDir('strata-src-'), 'note.txt');
    writeFileSync(path, 'a file for bob');
    await expect(alice.client.call('sendFile', { to: 'bob', path })).rejects.toMatchObject({
      code: 'forbidden',
    });
    alice.client.grant(path);
    expect(await alice.client.call('sendFile', { to: 'bob', path })).toMatchObject({
      file: { name: 'note.txt' },
    });

    // Closing closes the profile; once the process is gone, calls fail as unreachable.
    await alice.client.close();
    const exited = new Promise((resolve) => alice.child.once('exit', resolve));
    alice.child.kill();
    await exited;
    await expect(alice.client.call('session', {})).rejects.toMatchObject({
      code: 'unreachable',
    });
    await bob.client.close();
  });

  it("changes the downloads folder only through main's folder picker, never a path from the renderer", async () => {
    const { client } = await hostProcess('fern');
    // main as index.ts wires it: the IPC handlers of the contract, and the picker on a dialog
    // stand-in that records what it was asked and answers as the user would.
    const asked: OpenDialogOptions[] = [];
    const answers = [
      { canceled: true, filePaths: [] },
      { canceled: false, filePaths: [join(tempDir('strata-picked-'), 'Inbox')] },
    ];
    const dialog = {
      showOpenDialog: async (...args: unknown[]) => {
        asked.push(args.at(-1) as OpenDialogOptions);
        return answers.shift()!;
      },
    } as unknown as Pick<Dialog, 'showOpenDialog'>;
    client.folderPicker = createFolderPicker(dialog, () => null);
    const ipc = createFakeIpc(APP);
    registerIpc(ipc.ipcMain, client, trustedSenderCheck(APP));
    const invoke = (method: MethodName, params: unknown) =>
      ipc.ipcRenderer.invoke(ipcChannel(method), params) as Promise<Envelope>;
    const folder = async () =>
      ((await invoke('session', {})) as { result: SessionView }).result.files!.downloadsDir;
    const before = await folder();

    // A renderer that names a folder is refused before main shows anything.
    const evil = join(tempDir('strata-home-'), '.config', 'autostart');
    for (const [method, params] of [
      ['chooseDownloadsDir', { path: evil }],
      ['chooseDownloadsDir', { downloadsDir: evil }],
      ['updateFileSettings', { patch: { downloadsDir: evil } }],
    ] as const) {
      expect(await invoke(method, params)).toMatchObject({ ok: false, error: { code: 'invalid' } });
    }
    expect(asked).toEqual([]);
    expect(existsSync(evil)).toBe(false);

    // The picker opens on the current folder; cancelling changes nothing.
    expect(await invoke('chooseDownloadsDir', {})).toEqual({ ok: true, result: null });
    expect(asked[0]).toMatchObject({
      defaultPath: before,
      properties: expect.arrayContaining(['openDirectory']),
    });
    expect(await folder()).toBe(before);
    // The folder the user picks becomes the downloads folder (created if it has to be).
    const chosen = await invoke('chooseDownloadsDir', {});
    expect(chosen).toMatchObject({
      ok: true,
      result: { downloadsDir: expect.stringMatching(/Inbox$/) },
    });
    const inbox = (chosen as { result: { downloadsDir: string } }).result.downloadsDir;
    expect(existsSync(inbox)).toBe(true);
    expect(await folder()).toBe(inbox);
    await client.close();
  });

  it('runs from the bundle the app ships, next to its checkpoint worker', async () => {
    expect(existsSync(BUNDLED), 'run `npm run build` first').toBe(true);
    const carol = await hostProcess('carol', BUNDLED);
    expect(await carol.client.call('session', {})).toMatchObject({ user: 'carol' });
    await relay.waitForLog(/hello carol\//);
    await carol.client.close();
  });

  it('says why a profile cannot be opened, and why when its process is gone', async () => {
    const notADir = join(tempDir('strata-host-'), 'file');
    writeFileSync(notADir, '');
    await expect(hostProcess('dave', ENTRY, notADir)).rejects.toThrow(
      /EEXIST: file already exists/,
    );

    const child = fork(ENTRY, [], {
      execArgv: ['--import', PARENT_PORT],
      serialization: 'advanced',
    });
    children.push(child);
    const client = new HostClient(linkTo(child));
    child.once('exit', (code) => client.gone(`the host process exited (${code})`));
    child.kill('SIGKILL');
    await expect(
      client.open({ profileDir: tempDir(), kind: 'electron', relayUrl: relay.url, user: 'erin' }),
    ).rejects.toThrow(/the host process exited/);
  });
});
