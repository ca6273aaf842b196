// One contract suite, run against both implementations of the renderer's API:
//   - the browser host: Host + web server + the renderer's WebSocket client;
//   - the Electron bridge: Host + main's IPC handlers + the preload's bridge + apiFromBridge,
//     over an in-memory IPC that serialises like Electron's (no Electron binary here).
// Both face a real relay and a real peer engine, so what passes here is what the UI gets.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { Host } from '../src/core/host/host.ts';
import type { MessageView } from '../src/shared/api.ts';
import { PREVIEW_MAX_BYTES } from '../src/shared/preview.ts';
import { CARRIERS, Events, apiError, registered, type Instance } from './helpers/carriers.ts';
import { TestEngine } from './helpers/engine.ts';
import { ADMIN_TOKEN, startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

describe.each(CARRIERS)('the renderer API through the %s', (_name, carry, kind) => {
  // A relay per carrier: a name belongs to the first account that takes it, and both carriers
  // log in as the same people.
  let relay: RelayProcess;
  beforeAll(async () => {
    relay = await startRelay();
  });
  afterAll(async () => {
    await relay.stop();
  });
  const open: Instance[] = [];
  const engines: TestEngine[] = [];
  afterEach(async () => {
    for (const i of open.splice(0)) await i.close();
    for (const e of engines.splice(0)) await e.m.close();
  });
  const instance = async (options: Partial<Parameters<typeof Host.open>[0]> = {}) => {
    const host = await Host.open({ profileDir: tempDir('strata-host-'), kind, ...options });
    const i = await carry(host);
    open.push(i);
    return i;
  };
  const peer = async (user: string) => {
    // The hosts' users are this peer's contacts: their files download by themselves, and it
    // shows them its typing (a message request would see neither).
    const e = TestEngine.start(relay.url, user, {}, ['hana', 'alice']);
    engines.push(e);
    await e.online();
    return e;
  };

  it('starts logged out, refuses what needs a user, and says why', async () => {
    const { api } = await instance();
    const session = await api.call('session', {});
    expect(session).toMatchObject({ user: null, relayUrl: null, host: kind });
    expect((await apiError(api.call('conversations', {}))).code).toBe('notLoggedIn');
    expect((await apiError(api.call('send', { to: 'bob', text: 'hi' }))).code).toBe('notLoggedIn');
  });

  it('refuses unknown methods, unknown fields and bad values before they reach the engine', async () => {
    const { api } = await instance();
    const call = api.call.bind(api) as (m: string, p: unknown) => Promise<unknown>;
    // The browser host answers that the method does not exist; the preload does not even
    // forward it (its allowlist), so the Electron bridge calls it forbidden.
    const unknown = await apiError(call('deleteEverything', {}));
    expect(['invalid', 'forbidden']).toContain(unknown.code);
    expect(unknown.message).toMatch(/deleteEverything/);
    const extra = await apiError(call('session', { evil: true }));
    expect(extra).toMatchObject({ code: 'invalid', message: 'params.evil is not expected' });
    const badName = await apiError(call('login', { user: '../x', relayUrl: relay.url }));
    expect(badName.code).toBe('invalid');
    expect(badName.message).toMatch(/params\.user must be a user name/);
    const badUrl = await apiError(call('login', { user: 'alice', relayUrl: 'http://x/' }));
    expect(badUrl.message).toMatch(/ws:\/\//);
  });

  it('a login to a relay that is not there fails clearly and leaves the profile free', async () => {
    const { api } = await instance();
    const dead = await apiError(
      api.call('login', { user: 'ghost', relayUrl: 'ws://127.0.0.1:1/' }),
    );
    expect(dead.code).toBe('unreachable');
    expect(dead.message).toMatch(/cannot reach a Strata relay at ws:\/\/127\.0\.0\.1:1\//);
    expect((await api.call('session', {})).user).toBeNull();
    const ok = await api.call('login', { user: 'casper', relayUrl: relay.url });
    expect(ok.user).toBe('casper');
  });

  it('logs in, chats both ways with statuses, typing and presence, and remembers the login', async () => {
    const bob = await peer('bob');
    const profileDir = tempDir('strata-host-');
    const alice = await instance({ profileDir });
    const events = new Events(alice.api);
    const session = await alice.api.call('login', { user: 'alice', relayUrl: relay.url });
    expect(session).toMatchObject({
      user: 'alice',
      relayUrl: relay.url,
      profile: expect.any(String),
    });
    await events.until((e) => (e.type === 'session' && e.session.user === 'alice') || undefined);
    await events.until((e) => (e.type === 'connection' && e.state === 'online') || undefined);

    // Presence: alice asks the relay for bob, who exists and is online (and follows her: the
    // relay shows presence only to those who follow each other or share a conversation), and
    // for a name nobody has used; she then hears of bob, and does not list herself.
    await bob.m.lookup('alice');
    expect(await alice.api.call('lookupUser', { user: 'bob' })).toEqual({
      user: 'bob',
      exists: true,
      online: true,
      lastSeen: expect.any(Number),
    });
    expect(await alice.api.call('lookupUser', { user: 'nobody-here' })).toEqual({
      user: 'nobody-here',
      exists: false,
      online: false,
      lastSeen: null,
    });
    await events.until(
      (e) => (e.type === 'presence' && e.presence.user === 'bob' && e.presence.online) || undefined,
    );
    const presence = await alice.api.call('presence', {});
    expect(presence.find((p) => p.user === 'bob')?.online).toBe(true);
    expect(presence.some((p) => p.user === 'alice')).toBe(false);

    // Out: pending at once, then delivered, and bob has the text.
    const sent = await alice.api.call('send', { to: 'bob', text: 'hello, Bob\nsecond line' });
    expect(sent).toMatchObject({ direction: 'out', status: 'pending', peer: 'bob' });
    await events.until(
      (e) =>
        (e.type === 'message' && e.message.key === sent.key && e.message.status === 'delivered') ||
        undefined,
    );
    await bob.until(() => bob.m.history('alice').some((m) => m.text === 'hello, Bob\nsecond line'));

    // In: bob types, then answers; the answer ends the typing indicator.
    bob.m.setTyping('alice', true);
    await events.until((e) => (e.type === 'typing' && e.user === 'bob' && e.typing) || undefined);
    bob.m.send('alice', 'hi Alice');
    const incoming = await events.until((e) =>
      e.type === 'message' && e.message.direction === 'in' && e.message.text === 'hi Alice'
        ? e.message
        : undefined,
    );
    expect(incoming).toMatchObject({ author: 'bob', status: 'delivered', error: false });
    await events.until((e) => (e.type === 'typing' && e.user === 'bob' && !e.typing) || undefined);

    const convs = await alice.api.call('conversations', {});
    expect(convs).toEqual([
      expect.objectContaining({
        peer: 'bob',
        unread: 1,
        presence: expect.objectContaining({ online: true }),
      }),
    ]);
    expect(await alice.api.call('markRead', { peer: 'bob' })).toBe(1);
    expect((await alice.api.call('conversations', {}))[0]!.unread).toBe(0);
    const history = await alice.api.call('history', { peer: 'bob' });
    expect(history.map((m: MessageView) => m.text)).toEqual([
      'hello, Bob\nsecond line',
      'hi Alice',
    ]);
    const older = await alice.api.call('history', { peer: 'bob', before: history[1]!.key });
    expect(older.map((m) => m.key)).toEqual([history[0]!.key]);

    // The network view's data: the segment log and the counters saw this traffic. A
    // one-segment message is settled by its receipt before any acknowledgement; a long one
    // has segments acknowledged on the way.
    const long = await alice.api.call('send', { to: 'bob', text: 'x'.repeat(100_000) });
    await events.until(
      (e) =>
        (e.type === 'message' && e.message.key === long.key && e.message.status === 'delivered') ||
        undefined,
    );
    const net = await alice.api.call('network', { peer: 'bob' });
    expect(net.stats.segmentsSent).toBeGreaterThanOrEqual(1);
    expect(net.stats.bytesSent).toBeGreaterThan(0);
    expect(net.log.map((e) => e.event)).toEqual(
      expect.arrayContaining(['sent', 'acked', 'received']),
    );
    const last = net.log.at(-1)!.seq;
    expect((await alice.api.call('network', { peer: 'bob', since: last })).log).toEqual([]);

    // The login is remembered: the same profile opens logged in, on the same relay.
    await alice.close();
    open.splice(open.indexOf(alice), 1);
    const again = await instance({ profileDir });
    expect(await again.api.call('session', {})).toMatchObject({
      user: 'alice',
      relayUrl: relay.url,
    });
    expect((await again.api.call('history', { peer: 'bob' })).length).toBe(3);
  });

  it('a profile belongs to one user', async () => {
    const { api } = await instance();
    await api.call('login', { user: 'dora', relayUrl: relay.url });
    const other = await apiError(api.call('login', { user: 'eve', relayUrl: relay.url }));
    expect(other).toMatchObject({ code: 'refused' });
    expect(other.message).toMatch(/belongs to dora/);
  });

  it('reads relay counters, and reads and changes the channel with the admin token only', async () => {
    const { api } = await instance({ relayUrl: relay.url, user: 'frank' });
    const stats = await api.call('relayStats', {});
    expect(stats.reachable).toBe(true);
    if (stats.reachable) expect(stats.counters.framesIn).toBeGreaterThan(0);

    const denied = await apiError(api.call('getChannel', { token: 'not-the-token' }));
    expect(denied.code).toBe('forbidden');
    const channel = await api.call('setChannel', {
      token: ADMIN_TOKEN,
      patch: { loss: 0.25, code: 'hamming74' },
    });
    expect(channel).toMatchObject({ loss: 0.25, code: 'hamming74' });
    expect(await api.call('getChannel', { token: ADMIN_TOKEN })).toMatchObject({ loss: 0.25 });
    const bad = await apiError(api.call('setChannel', { token: ADMIN_TOKEN, patch: { loss: 2 } }));
    expect(bad).toMatchObject({ code: 'invalid' });
    await api.call('setChannel', { token: ADMIN_TOKEN, patch: { loss: 0, code: 'none' } });
  });

  it('sets the burst loss model, its parameters and the bit-error burst length on the relay', async () => {
    const { api } = await instance({ relayUrl: relay.url, user: 'fran' });
    const channel = await api.call('setChannel', {
      token: ADMIN_TOKEN,
      patch: { lossModel: 'gilbert-elliott', geGoodToBad: 0.05, geBadToGood: 0.2, burstBits: 9 },
    });
    expect(channel).toMatchObject({
      lossModel: 'gilbert-elliott',
      geGoodToBad: 0.05,
      geBadToGood: 0.2,
      geLossGood: 0,
      geLossBad: 0.5,
      burstBits: 9,
    });
    // The relay itself has them, in its own shape.
    expect(await relay.admin({})).toMatchObject({
      lossModel: 'gilbert-elliott',
      gilbertElliott: { pGoodToBad: 0.05, pBadToGood: 0.2, lossGood: 0, lossBad: 0.5 },
      burstBits: 9,
    });
    const bad = await apiError(
      api.call('setChannel', { token: ADMIN_TOKEN, patch: { burstBits: 65 } }),
    );
    expect(bad.message).toMatch(/burstBits/);
    await api.call('setChannel', {
      token: ADMIN_TOKEN,
      patch: { lossModel: 'bernoulli', geGoodToBad: 0.01, geBadToGood: 0.25, burstBits: 1 },
    });
  });

  it('resets the network counters of one chat or of all', async () => {
    await peer('bruno');
    const { api } = await instance({ relayUrl: relay.url, user: 'iris' });
    const events = new Events(api);
    const sent = await api.call('send', { to: 'bruno', text: 'count me' });
    await events.until(
      (e) =>
        (e.type === 'message' && e.message.key === sent.key && e.message.status === 'delivered') ||
        undefined,
    );
    expect((await api.call('network', { peer: 'bruno' })).stats.segmentsSent).toBe(1);
    expect(await api.call('resetNetwork', { peer: 'bruno' })).toBeNull();
    const after = await api.call('network', { peer: 'bruno' });
    expect(after.stats).toMatchObject({ segmentsSent: 0, segmentsAcked: 0, bytesSent: 0 });
    expect(after.log).toEqual([]);
    expect(await api.call('resetNetwork', {})).toBeNull();
    const notAUser = await apiError(api.call('resetNetwork', { peer: '' }));
    expect(notAUser.code).toBe('invalid');
  });

  it('sends a file by path, controls it, and refuses what a renderer may not do with files', async () => {
    const bob = await peer('bill');
    const { api, host } = await instance({ relayUrl: relay.url, user: 'hana' });
    const events = new Events(api);
    const dir = tempDir('strata-src-');
    const path = join(dir, 'notes.txt');
    writeFileSync(path, 'the relay address is on the whiteboard\n');
    // Without the carrier's say-so (the user picked this file), no path is sent.
    const unpicked = await apiError(api.call('sendFile', { to: 'bill', path }));
    expect(unpicked).toMatchObject({ code: 'forbidden' });
    host.pathPolicy = (p) => p.startsWith(dir);
    const sent = await api.call('sendFile', { to: 'bill', path });
    expect(sent.file).toMatchObject({ name: 'notes.txt', type: 'text/plain', state: 'sending' });
    await events.until(
      (e) =>
        (e.type === 'message' && e.message.key === sent.key && e.message.status === 'delivered') ||
        undefined,
    );
    await bob.until(() => bob.m.message(sent.key)?.file?.state === 'done');
    expect(readFileSync(bob.m.message(sent.key)!.file!.path!, 'utf8')).toMatch(/whiteboard/);

    expect(await api.call('controlFile', { key: sent.key, action: 'pause' })).toBe(false);
    const both = await apiError(api.call('sendFile', { to: 'bill' }));
    expect(both).toMatchObject({
      code: 'invalid',
      message: expect.stringMatching(/path .* upload/),
    });
    const missing = await apiError(api.call('sendFile', { to: 'bill', path: join(dir, 'gone') }));
    expect(missing.message).toMatch(/no such file/);
    // No opener is wired here (as in the browser host): opening is refused, not attempted.
    expect((await apiError(api.call('openFile', { key: sent.key }))).code).toBe('invalid');
    // The downloads folder is never a path the renderer sends: only the carrier's picker.
    const named = await apiError(
      api.call('updateFileSettings', { patch: { downloadsDir: dir } } as never),
    );
    expect(named).toMatchObject({
      code: 'invalid',
      message: 'params.patch.downloadsDir is not expected',
    });
    const withPath = await apiError(api.call('chooseDownloadsDir', { path: dir } as never));
    expect(withPath).toMatchObject({ code: 'invalid', message: 'params.path is not expected' });
    const before = (await api.call('session', {})).files!.downloadsDir;
    expect((await apiError(api.call('chooseDownloadsDir', {}))).code).toBe('forbidden');
    const asked: string[] = [];
    const picked = join(dir, 'picked');
    host.folderPicker = async (current) => {
      asked.push(current);
      return asked.length === 1 ? null : picked;
    };
    expect(await api.call('chooseDownloadsDir', {})).toBeNull();
    expect((await api.call('session', {})).files!.downloadsDir).toBe(before);
    expect((await api.call('chooseDownloadsDir', {}))?.downloadsDir).toBe(picked);
    expect(asked).toEqual([before, before]);
    expect(statSync(picked).isDirectory()).toBe(true);
    expect((await api.call('session', {})).files!.downloadsDir).toBe(picked);
    const files = await api.call('updateFileSettings', { patch: { maxFileBytes: 1024 } });
    expect(files.maxFileBytes).toBe(1024);
    expect((await api.call('session', {})).files?.maxFileBytes).toBe(1024);
  });

  it('previews a finished image as data, and nothing else', async () => {
    const bob = await peer('boris');
    const { api } = await instance({ relayUrl: relay.url, user: 'ines' });
    await registered(api);
    await api.call('setContact', { peer: 'boris', action: 'accept' });
    const dir = tempDir('strata-src-');
    // A PNG signature and then bytes: the media type is sniffed from them, so a small
    // one and one just over the preview limit are both images.
    const png = (size: number) => {
      const bytes = new Uint8Array(size);
      bytes.set([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
      for (let i = 8; i < size; i++) bytes[i] = (i * 7) & 0xff;
      return bytes;
    };
    const small = png(3000);
    writeFileSync(join(dir, 'photo.png'), small);
    writeFileSync(join(dir, 'poster.png'), png(PREVIEW_MAX_BYTES + 1));
    writeFileSync(join(dir, 'notes.txt'), 'not an image\n');
    const keys: string[] = [];
    for (const name of ['photo.png', 'poster.png', 'notes.txt']) {
      keys.push((await bob.m.sendFile('ines', join(dir, name))).key);
    }
    for (const key of keys) {
      await bob.until(() => bob.m.message(key)?.status === 'delivered');
    }
    const [photo, poster, notes] = keys as [string, string, string];
    expect(await api.call('filePreview', { key: photo })).toEqual({
      type: 'image/png',
      base64: Buffer.from(small).toString('base64'),
    });
    expect(await api.call('filePreview', { key: poster })).toBeNull();
    expect(await api.call('filePreview', { key: notes })).toBeNull();
    expect(await api.call('filePreview', { key: 'nobody/1/1' })).toBeNull();
  });

  it('saves a received file that could run code, shows it in its folder, and never opens it', async () => {
    const bob = await peer('bodo');
    const downloads = tempDir('strata-ilse-dl-');
    const { api, host } = await instance({
      relayUrl: relay.url,
      user: 'ilse',
      downloadsDir: downloads,
    });
    await registered(api);
    // Ilse writes first: bodo is a contact whose files download by themselves.
    await api.call('send', { to: 'bodo', text: 'send me the tools' });
    const events = new Events(api);
    const dir = tempDir('strata-src-');
    const keys: Record<string, string> = {};
    for (const name of ['setup.exe', 'start.desktop', 'notes.txt']) {
      writeFileSync(join(dir, name), `the bytes of ${name}\n`);
      keys[name] = (await bob.m.sendFile('ilse', join(dir, name))).key;
    }
    for (const key of Object.values(keys)) {
      await events.until(
        (e) =>
          (e.type === 'message' && e.message.key === key && e.message.file?.state === 'done') ||
          undefined,
      );
    }
    const opened: [string, boolean][] = [];
    host.opener = async (path, reveal) => {
      opened.push([basename(path), reveal]);
    };
    for (const name of ['setup.exe', 'start.desktop']) {
      const refused = await apiError(api.call('openFile', { key: keys[name]! }));
      expect(refused).toMatchObject({
        code: 'refused',
        message: expect.stringMatching(/can run programs, so Strata does not open it/),
      });
      await api.call('openFile', { key: keys[name]!, reveal: true });
    }
    await api.call('openFile', { key: keys['notes.txt']! });
    // Saved as it came (the bytes intact), shown in its folder; only the text file was opened.
    expect(readFileSync(join(downloads, 'setup.exe'), 'utf8')).toBe('the bytes of setup.exe\n');
    expect(opened).toEqual([
      ['setup.exe', true],
      ['start.desktop', true],
      ['notes.txt', false],
    ]);
  });

  it('keeps the UI preferences in the profile through a login and a restart', async () => {
    const profileDir = tempDir('strata-host-');
    const first = await instance({ profileDir });
    const events = new Events(first.api);
    expect((await first.api.call('session', {})).preferences).toEqual({ language: null });
    await first.api.call('setPreferences', { patch: { language: 'ru' } });
    await events.until(
      (e) => (e.type === 'session' && e.session.preferences.language === 'ru') || undefined,
    );
    const bad = await apiError(
      first.api.call('setPreferences', { patch: { language: 'xx' as 'ru' } }),
    );
    expect(bad.code).toBe('invalid');
    // Remembering the relay at login keeps what else the profile remembers.
    await first.api.call('login', { user: 'hanne', relayUrl: relay.url });
    await first.close();
    open.splice(open.indexOf(first), 1);

    const again = await instance({ profileDir });
    expect(await again.api.call('session', {})).toMatchObject({
      relayUrl: relay.url,
      preferences: { language: 'ru' },
    });
  });

  it('changes the transport settings, saved in the profile, and refuses bad ones', async () => {
    const { api } = await instance({ relayUrl: relay.url, user: 'gina' });
    const events = new Events(api);
    const s = await api.call('updateSettings', { patch: { segmentSize: 128, idleCycles: 2 } });
    expect(s).toMatchObject({ segmentSize: 128, idleCycles: 2 });
    await events.until(
      (e) => (e.type === 'session' && e.session.settings.segmentSize === 128) || undefined,
    );
    const bad = await apiError(api.call('updateSettings', { patch: { idleCycles: 9 } }));
    expect(bad.message).toMatch(/idleCycles must be an integer from 1 to 3/);
    expect((await api.call('session', {})).settings.idleCycles).toBe(2);
  });
});
