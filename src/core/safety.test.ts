// Safety numbers and verified contacts in the engine, against a stand-in relay that keeps each
// registered account's identity key as the relay's directory does: both sides compute the
// same number, a verified contact whose identity changes blocks sending (text and files) until
// the user accepts the new number, and an unverified contact's change blocks nothing.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KeyPair } from '../node/account-keys.ts';
import type { MessengerEvent } from '../shared/api.ts';
import {
  decodeProof,
  encodeAccountMessage,
  parseAccountMessage,
  toBase64,
  type AccountMessage,
} from '../shared/protocol/account.ts';
import type { Frame } from '../shared/protocol/index.ts';
import { Messenger } from './messenger.ts';
import { groupDigits, safetyNumber } from './safety.ts';
import { standInRelay, type StandInRelay } from './stand-in-relay.ts';

describe('safetyNumber', () => {
  const a = KeyPair.generate().publicKey;
  const b = KeyPair.generate().publicKey;

  it('is 60 digits, the same from either side', () => {
    const ours = safetyNumber('alice', a, 'bob', b);
    expect(ours).toMatch(/^\d{60}$/);
    expect(safetyNumber('bob', b, 'alice', a)).toBe(ours);
    expect(groupDigits(ours)).toHaveLength(12);
    expect(groupDigits(ours).join('')).toBe(ours);
  });

  it('changes with either key or either name', () => {
    const ours = safetyNumber('alice', a, 'bob', b);
    const other = KeyPair.generate().publicKey;
    expect(safetyNumber('alice', a, 'bob', other)).not.toBe(ours);
    expect(safetyNumber('alice', other, 'bob', b)).not.toBe(ours);
    expect(safetyNumber('alice', a, 'bobby', b)).not.toBe(ours);
  });
});

describe('verified contacts', () => {
  let relay: StandInRelay;
  /** Each account's identity key (base64), as the relay's directory has it. */
  const keys = new Map<string, string>();
  /** A way to push a frame to each user's connection. */
  const push = new Map<string, (f: Frame) => void>();
  const engines: Messenger[] = [];
  const events: MessengerEvent[] = [];
  /** Each user's profile directory. */
  const dirs = new Map<string, string>();

  const account = (to: string, body: AccountMessage): Frame => ({
    type: 'account',
    from: '',
    fromDevice: 0,
    to,
    toDevice: 0,
    body: encodeAccountMessage(body),
  });

  beforeEach(async () => {
    relay = await standInRelay();
    relay.answer = ({ hello }) => {
      const proof = decodeProof('register', hello.auth.data);
      if (proof) keys.set(hello.from, toBase64(proof.identityKey));
      return 'welcome';
    };
    relay.onFrame = (frame, reply) => {
      push.set(frame.from, reply);
      if (frame.type !== 'account') return;
      const msg = parseAccountMessage(frame.body);
      if (msg instanceof Error || msg.kind !== 'identities') return;
      const entries = (msg.users ?? []).map((user) => ({
        user,
        identityKey: keys.get(user) ?? null,
      }));
      reply(account(frame.from, { kind: 'identities', entries }));
    };
  });

  afterEach(async () => {
    for (const m of engines.splice(0)) await m.close();
    await relay.close();
    keys.clear();
    push.clear();
    events.length = 0;
  });

  async function engine(user: string): Promise<Messenger> {
    const dir = join(mkdtempSync(join(tmpdir(), 'strata-safety-')), 'profile');
    dirs.set(user, dir);
    const m = Messenger.open({ profileDir: dir, relayUrl: relay.url, user });
    engines.push(m);
    m.on('event', (e) => events.push(e));
    await new Promise<void>((resolve) => {
      m.on('event', (e) => e.type === 'connection' && e.state === 'online' && resolve());
      m.start();
    });
    return m;
  }

  /** bob's account gets a new identity key (a recovery), and alice hears of it. */
  async function bobRecovers(alice: Messenger): Promise<void> {
    keys.set('bob', toBase64(KeyPair.generate().publicKey));
    const heard = new Promise<void>((resolve) =>
      alice.on('event', (e) => e.type === 'identity-changed' && resolve()),
    );
    push.get('alice')!(
      account('alice', {
        kind: 'identities',
        entries: [{ user: 'bob', identityKey: keys.get('bob')! }],
      }),
    );
    await heard;
  }

  it('both sides see the same safety number', async () => {
    const alice = await engine('alice');
    const bob = await engine('bob');
    const ours = await alice.safetyNumber('bob');
    const theirs = await bob.safetyNumber('alice');
    expect(ours).toEqual({ user: 'bob', number: theirs.number, verified: false, changed: false });
    expect(ours.number).toMatch(/^\d{60}$/);
  });

  it('a name with no account, and oneself, have no safety number', async () => {
    const alice = await engine('alice');
    await expect(alice.safetyNumber('nobody')).rejects.toThrow(/nobody has no account/);
    await expect(alice.safetyNumber('alice')).rejects.toThrow(/between you and someone else/);
  });

  it("a verified contact's identity change blocks sending text and files until accepted", async () => {
    const alice = await engine('alice');
    await engine('bob');
    const before = await alice.safetyNumber('bob');
    expect(await alice.verify('bob')).toMatchObject({ verified: true, changed: false });
    // Accepting with nothing changed keeps the verification.
    expect(alice.acceptIdentity('bob')).toMatchObject({ verified: true, changed: false });
    alice.send('bob', 'still fine');

    await bobRecovers(alice);
    const after = await alice.safetyNumber('bob');
    expect(after).toMatchObject({ verified: false, changed: true });
    expect(after.number).not.toBe(before.number);
    expect(() => alice.send('bob', 'blocked')).toThrow(
      /bob's safety number changed: check it, then accept it with `strata accept-identity bob`/,
    );
    const file = join(mkdtempSync(join(tmpdir(), 'strata-safety-file-')), 'a.txt');
    writeFileSync(file, 'x');
    await expect(alice.sendFile('bob', file)).rejects.toThrow(/bob's safety number changed/);
    expect(alice.history('bob').map((v) => v.text)).toEqual(['still fine']);
    expect(events.some((e) => e.type === 'identity-changed' && e.user === 'bob')).toBe(true);

    expect(alice.acceptIdentity('bob')).toMatchObject({
      number: after.number,
      verified: false,
      changed: false,
    });
    expect(alice.send('bob', 'after accepting').text).toBe('after accepting');
  });

  it('the block survives a restart of the engine', async () => {
    const alice = await engine('alice');
    await engine('bob');
    await alice.verify('bob');
    await bobRecovers(alice);
    await alice.close();
    engines.splice(engines.indexOf(alice), 1);
    const again = Messenger.open({ profileDir: dirs.get('alice')!, relayUrl: relay.url });
    engines.push(again);
    expect(() => again.send('bob', 'blocked')).toThrow(/bob's safety number changed/);
  });

  it("an unverified contact's change leaves the notice and blocks nothing", async () => {
    const alice = await engine('alice');
    await engine('bob');
    await alice.safetyNumber('bob');
    await bobRecovers(alice);
    expect(alice.notices('bob')).toHaveLength(1);
    expect(await alice.safetyNumber('bob')).toMatchObject({ verified: false, changed: false });
    expect(alice.send('bob', 'goes').text).toBe('goes');
  });

  it('unverify clears the mark; verifying again after a change takes the new key', async () => {
    const alice = await engine('alice');
    await engine('bob');
    await alice.verify('bob');
    expect(alice.unverify('bob')).toMatchObject({ verified: false, changed: false });
    await alice.verify('bob');
    await bobRecovers(alice);
    expect(await alice.verify('bob')).toMatchObject({ verified: true, changed: false });
    expect(alice.send('bob', 'checked again').text).toBe('checked again');
  });
});
