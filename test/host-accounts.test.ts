// The accounts through the renderer's API, on both carriers, against a real relay: what the
// login screen, the recovery dialog and the devices settings call. Names carry the carrier's
// kind, as both suites share one relay and a name belongs to its first account for good.
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Host } from '../src/core/host/host.ts';
import type { HostEvent } from '../src/shared/contract.ts';
import { CARRIERS, Events, apiError, registered, type Instance } from './helpers/carriers.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

let relay: RelayProcess;
beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  await relay.stop();
});

describe.each(CARRIERS)('accounts through the %s', (_name, carry, kind) => {
  const open: Instance[] = [];
  afterEach(async () => {
    for (const i of open.splice(0)) await i.close();
  });
  const instance = async (): Promise<Instance> => {
    const host = await Host.open({ profileDir: tempDir('strata-host-'), kind });
    const i = await carry(host);
    open.push(i);
    return i;
  };
  const name = (base: string) => `${base}-${kind}`;

  it('a first login answers once the account is registered, with its recovery code shown once', async () => {
    const { api } = await instance();
    expect(await api.call('account', {})).toBeNull();
    const session = await api.call('login', { user: name('ann'), relayUrl: relay.url });
    expect(session.user).toBe(name('ann'));
    const account = await api.call('account', {});
    expect(account).toMatchObject({
      user: name('ann'),
      state: 'registered',
      recoveryCodePending: true,
    });
    const code = await api.call('pendingRecoveryCode', {});
    expect(code).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{4}){5}$/);
    const acknowledged = await api.call('acknowledgeRecoveryCode', {});
    expect(acknowledged.recoveryCodePending).toBe(false);
    expect(await api.call('pendingRecoveryCode', {})).toBeNull();
  });

  it('a taken name leaves the profile free to log in under another', async () => {
    await (await instance()).api.call('login', { user: name('ben'), relayUrl: relay.url });
    const { api } = await instance();
    await api.call('login', { user: name('ben'), relayUrl: relay.url });
    expect(await api.call('account', {})).toMatchObject({ state: 'name-taken' });
    await api.call('login', { user: name('benny'), relayUrl: relay.url });
    expect(await api.call('account', {})).toMatchObject({
      user: name('benny'),
      state: 'registered',
    });
    // Once registered, the name is the profile's for good.
    const other = await apiError(api.call('login', { user: name('bert'), relayUrl: relay.url }));
    expect(other).toMatchObject({ code: 'refused' });
  });

  it('links a fresh profile with a code its user accepts, lists and removes devices', async () => {
    const first = await instance();
    await first.api.call('login', { user: name('cy'), relayUrl: relay.url });
    const firstEvents = new Events(first.api);
    const offer = await first.api.call('createLinkCode', {});
    expect(offer.code).toMatch(/^[0-9A-Z]{5}-[0-9A-Z]{5}$/);
    expect(offer.expiresAt).toBeGreaterThan(Date.now());

    const second = await instance();
    const secondEvents = new Events(second.api);
    const linked = second.api.call('linkDevice', {
      code: offer.code.toLowerCase(),
      relayUrl: relay.url,
      deviceName: 'Second screen',
    });
    const request = await firstEvents.until((e) =>
      e.type === 'link-request' ? e.request : undefined,
    );
    expect(request.name).toBe('Second screen');
    await first.api.call('answerLink', { device: request.device, accept: true });
    const session = await linked;
    expect(session.user).toBe(name('cy'));
    expect(await second.api.call('account', {})).toMatchObject({
      user: name('cy'),
      device: request.device,
      recoveryCodePending: false,
    });

    const devices = await first.api.call('devices', {});
    expect(devices).toHaveLength(2);
    expect(devices.find((d) => !d.current)).toMatchObject({
      device: request.device,
      name: 'Second screen',
    });
    // A profile with an account cannot join another.
    const again = await apiError(
      second.api.call('linkDevice', { code: offer.code, relayUrl: relay.url }),
    );
    expect(again.code).toBe('refused');

    const left = await first.api.call('unlinkDevice', { device: request.device });
    expect(left.map((d) => d.device)).not.toContain(request.device);
    await secondEvents.until((e: HostEvent) =>
      e.type === 'account' && e.account.state === 'removed' ? true : undefined,
    );
  });

  it('a declined or wrong link code fails clearly and leaves the profile fresh', async () => {
    const first = await instance();
    await first.api.call('login', { user: name('dee'), relayUrl: relay.url });
    const events = new Events(first.api);
    const offer = await first.api.call('createLinkCode', {});
    const second = await instance();
    const linking = apiError(
      second.api.call('linkDevice', { code: offer.code, relayUrl: relay.url }),
    );
    const request = await events.until((e) => (e.type === 'link-request' ? e.request : undefined));
    await first.api.call('answerLink', { device: request.device, accept: false });
    expect((await linking).code).toBe('refused');
    expect((await second.api.call('session', {})).user).toBeNull();
    const wrong = await apiError(
      second.api.call('linkDevice', { code: 'not a code', relayUrl: relay.url }),
    );
    expect(wrong.code).toBe('refused');
    expect((await second.api.call('session', {})).user).toBeNull();
  });

  it('recovers an account on a fresh profile with a new recovery code', async () => {
    const first = await instance();
    await first.api.call('login', { user: name('eli'), relayUrl: relay.url });
    const code = await first.api.call('pendingRecoveryCode', {});
    const firstEvents = new Events(first.api);

    const second = await instance();
    const session = await second.api.call('recoverAccount', {
      user: name('eli'),
      code: code!,
      relayUrl: relay.url,
    });
    expect(session.user).toBe(name('eli'));
    expect(await second.api.call('account', {})).toMatchObject({
      state: 'registered',
      recoveryCodePending: true,
    });
    const fresh = await second.api.call('pendingRecoveryCode', {});
    expect(fresh).not.toBe(code);
    await firstEvents.until((e) =>
      e.type === 'account' && e.account.state === 'removed' ? true : undefined,
    );

    const wrong = await instance();
    const refused = await apiError(
      wrong.api.call('recoverAccount', { user: name('eli'), code: code!, relayUrl: relay.url }),
    );
    expect(refused.code).toBe('refused');
  });

  it("safety numbers: the same on both sides; a verified contact's recovery blocks sending until accepted", async () => {
    const a = await instance();
    await a.api.call('login', { user: name('fay'), relayUrl: relay.url });
    const b = await instance();
    await b.api.call('login', { user: name('gus'), relayUrl: relay.url });
    const code = await b.api.call('pendingRecoveryCode', {});
    await registered(a.api);
    await registered(b.api);
    await a.api.call('send', { to: name('gus'), text: 'hi' });

    const ours = await a.api.call('safetyNumber', { user: name('gus') });
    const theirs = await b.api.call('safetyNumber', { user: name('fay') });
    expect(ours).toEqual({
      user: name('gus'),
      number: theirs.number,
      verified: false,
      changed: false,
    });
    expect(await a.api.call('setVerified', { user: name('gus'), verified: true })).toMatchObject({
      verified: true,
    });
    // Bad input is refused by the contract before the engine sees it.
    const bad = await apiError(a.api.call('setVerified', { user: '../x', verified: true }));
    expect(bad.code).toBe('invalid');

    const events = new Events(a.api);
    const c = await instance();
    await c.api.call('recoverAccount', { user: name('gus'), code: code!, relayUrl: relay.url });
    await events.until((e) =>
      e.type === 'identity-changed' && e.user === name('gus') ? true : undefined,
    );
    const changed = await a.api.call('safetyNumber', { user: name('gus') });
    expect(changed).toMatchObject({ verified: false, changed: true });
    const blocked = await apiError(a.api.call('send', { to: name('gus'), text: 'blocked' }));
    expect(blocked).toMatchObject({
      code: 'invalid',
      message: expect.stringMatching(/safety number changed/),
    });
    expect(await a.api.call('acceptIdentity', { user: name('gus') })).toMatchObject({
      number: changed.number,
      changed: false,
    });
    expect((await a.api.call('send', { to: name('gus'), text: 'goes' })).text).toBe('goes');
  });
});
