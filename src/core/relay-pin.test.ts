import { afterEach, describe, expect, it } from 'vitest';
import { MessengerError } from './errors.ts';
import { profilePins, relayTarget } from './relay-pin.ts';
import { closeDatabase, openDatabase, type Db } from './store/database.ts';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const FP = 'ab'.repeat(32);

describe('a relay URL', () => {
  it('keeps its #sha256= pin apart from the URL to connect to', () => {
    expect(relayTarget(`wss://192.168.1.20:7000/#sha256=${FP}`, false)).toEqual({
      connectUrl: 'wss://192.168.1.20:7000/',
      tls: true,
      hostPort: '192.168.1.20:7000',
      pin: FP,
    });
  });

  it('takes the pin in capitals or with colons, as other tools print it', () => {
    const colons = FP.toUpperCase().match(/../g)!.join(':');
    expect(relayTarget(`wss://relay.lan/#sha256=${colons}`, false).pin).toBe(FP);
    expect(relayTarget('wss://relay.lan/', false)).toMatchObject({
      hostPort: 'relay.lan:443',
      pin: null,
    });
  });

  it('refuses a pin that is not 64 hex digits, or one on plain ws://', () => {
    for (const url of [
      `wss://relay.lan/#sha256=${FP.slice(2)}`,
      `wss://relay.lan/#sha1=${FP}`,
      `ws://127.0.0.1:7000/#sha256=${FP}`,
    ])
      expect(() => relayTarget(url, false)).toThrow(/#sha256= and the 64 hex digits/);
  });

  it('allows plain ws:// to this machine only, unless insecure', () => {
    for (const host of ['127.0.0.1', 'localhost', '[::1]', '127.0.0.2'])
      expect(relayTarget(`ws://${host}:7000/`, false).tls).toBe(false);
    for (const host of ['192.168.1.20', 'relay.lan', '[fd00::2]', '0.0.0.0']) {
      expect(() => relayTarget(`ws://${host}:7000/`, false)).toThrow(MessengerError);
      expect(() => relayTarget(`ws://${host}:7000/`, false)).toThrow(/or --insecure/);
      expect(relayTarget(`ws://${host}:7000/`, true).connectUrl).toBe(`ws://${host}:7000/`);
    }
  });

  it('is ws:// or wss:// and nothing else', () => {
    expect(() => relayTarget('http://relay.lan/', false)).toThrow(
      /starts with wss:\/\/ or ws:\/\//,
    );
    expect(() => relayTarget('relay.lan:7000', false)).toThrow(MessengerError);
    expect(() => relayTarget('not a url', false)).toThrow(/is not a relay URL/);
  });
});

describe('the fingerprints a profile keeps', () => {
  let db: Db | null = null;
  afterEach(() => {
    if (db) closeDatabase(db);
    db = null;
  });

  it('are kept per host and port, and survive reopening the profile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-pins-'));
    db = openDatabase(dir);
    const pins = profilePins(db);
    expect(pins.get('relay.lan:7000')).toBeUndefined();
    pins.set('relay.lan:7000', FP);
    pins.set('relay.lan:7001', 'cd'.repeat(32));
    closeDatabase(db);
    db = openDatabase(dir);
    const again = profilePins(db);
    expect(again.get('relay.lan:7000')).toBe(FP);
    expect(again.get('relay.lan:7001')).toBe('cd'.repeat(32));
    expect(again.get('toString')).toBeUndefined();
  });
});
