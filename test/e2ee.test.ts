// End-to-end encryption against the real relay process: what the relay keeps on disk and
// what crosses the network hold no plaintext, and every device of a conversation (linked
// later, or removed) reads exactly what it should.
import { createHash, randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parseSealed } from '../src/core/crypto/content.ts';
import {
  SEALED_RECEIPT_KINDS,
  decodeFrame,
  encodeFrame,
  type Frame,
} from '../src/shared/protocol/index.ts';
import { captureProxy, type CaptureProxy } from './helpers/capture-proxy.ts';
import { TestEngine } from './helpers/engine.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

const cleanup: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

async function relay(dataDir = tempDir('strata-relay-')): Promise<RelayProcess> {
  // Debug logging: the relay's log describes every frame it routes, and must show no content.
  const r = await startRelay(['--log-level', 'debug'], { dataDir });
  cleanup.push(() => r.stop('SIGKILL'));
  return r;
}

async function proxy(r: RelayProcess): Promise<CaptureProxy> {
  const p = await captureProxy({ host: '127.0.0.1', port: r.port });
  cleanup.push(() => p.close());
  return p;
}

function engine(url: string, user: string, profileDir = tempDir()): TestEngine {
  const e = TestEngine.start(url, user, { profileDir });
  cleanup.push(() => e.close());
  return e;
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

/** The files under `dir` (and the relay's log) that contain `marker`. */
function holding(dir: string, log: string, marker: Buffer): string[] {
  const found = filesUnder(dir).filter((f) => readFileSync(f).includes(marker));
  if (Buffer.from(log).includes(marker)) found.push('(the relay log)');
  return found;
}

describe('what the relay sees', () => {
  it('holds and forwards a text and a file for an offline user without any of their plaintext', async () => {
    const dataDir = tempDir('strata-relay-');
    const r = await relay(dataDir);
    const wire = await proxy(r);
    const textMarker = `text-${randomBytes(12).toString('hex')}`;
    const fileMarker = Buffer.from(`file-${randomBytes(12).toString('hex')}`);
    const nameMarker = `name-${randomBytes(6).toString('hex')}`;
    const source = join(tempDir('strata-src-'), `${nameMarker}.txt`);
    const content = Buffer.concat([fileMarker, randomBytes(200_000), fileMarker]);
    writeFileSync(source, content);

    // Alice has an account and published her keys, then went away.
    const aliceDir = tempDir('strata-alice-');
    const first = engine(wire.url, 'alice', aliceDir);
    await first.online();
    await first.close();
    const bob = engine(wire.url, 'bob');
    await bob.online();
    const text = bob.m.send('alice', `hello ${textMarker}`);
    const file = await bob.m.sendFile('alice', source);
    await bob.until(() => [text.key, file.key].every((k) => bob.m.message(k)?.status === 'sent'));

    for (const marker of [Buffer.from(textMarker), fileMarker, Buffer.from(nameMarker)]) {
      expect(holding(dataDir, r.log.join('\n'), marker)).toEqual([]);
      expect(wire.captured().includes(marker)).toBe(false);
    }

    const alice = engine(wire.url, 'alice', aliceDir);
    await alice.until(() => (alice.m.message(text.key)?.text ?? null) !== null);
    expect(alice.m.message(text.key)!.text).toBe(`hello ${textMarker}`);
    // Bob is a stranger to her: his file waits for her word, then comes.
    alice.m.setContact('bob', 'accept');
    await alice.until(() => alice.m.message(file.key)?.file?.state === 'done');
    const saved = alice.m.message(file.key)!.file!;
    expect(saved.name).toBe(`${nameMarker}.txt`);
    expect(createHash('sha256').update(readFileSync(saved.path!)).digest('hex')).toBe(
      createHash('sha256').update(content).digest('hex'),
    );
    // Her download crossed the wire sealed too.
    for (const marker of [Buffer.from(textMarker), fileMarker, Buffer.from(nameMarker)]) {
      expect(wire.captured().includes(marker)).toBe(false);
      expect(holding(dataDir, r.log.join('\n'), marker)).toEqual([]);
    }
  });
});

describe('what users do', () => {
  it('typing and read receipts cross the relay sealed; forged or replayed ones count for nothing', async () => {
    const r = await relay();
    const wire = await proxy(r);
    // Alice's connection passes the proxy, which captures it and can write into it as the
    // relay would; bob's goes straight to the relay.
    const alice = engine(wire.url, 'alice');
    const bob = engine(r.url, 'bob');
    await Promise.all([alice.online(), bob.online()]);
    const one = alice.m.send('bob', 'one');
    await alice.until(() => alice.m.message(one.key)?.status === 'delivered');
    bob.m.setContact('alice', 'accept');
    const [, aliceDevice, oneId] = one.key.split('/').map(Number);
    const fromBob = { from: 'bob', fromDevice: bob.m.device, to: 'alice', toDevice: 0 };
    const typingOf = (e: TestEngine) =>
      e.events.flatMap((x) => (x.type === 'typing' ? [x.typing] : []));
    /** Bob's message reached alice: whatever was written into her connection before it too. */
    const barrier = async (text: string) => {
      const sent = bob.m.send('alice', text);
      await alice.until(() => alice.m.message(sent.key)?.text === text);
      return sent;
    };

    // In clear, as the relay could write them: a read receipt and a typing indicator.
    wire.inject(
      encodeFrame({
        type: 'receipt',
        ...fromBob,
        kind: 'read',
        messageDevice: aliceDevice!,
        messageIds: [oneId!],
      }),
    );
    wire.inject(encodeFrame({ type: 'typing', ...fromBob, sealed: randomBytes(200) }));
    const two = await barrier('two');
    expect(alice.m.message(one.key)?.status).toBe('delivered');
    expect(typingOf(alice)).toEqual([]);

    // The real ones arrive.
    bob.m.setTyping('alice', true);
    await alice.until(() => typingOf(alice).includes(true));
    bob.m.setTyping('alice', false);
    await alice.until(() => typingOf(alice).length === 2);
    // Replayed, bob's "typing" does not open again: its message key is spent.
    const sealedTyping = wire
      .messages()
      .map((m) => decodeFrame(m))
      .flatMap((d) =>
        d.ok && d.frame.type === 'typing' && d.frame.from === 'bob' ? [d.frame] : [],
      );
    expect(sealedTyping).toHaveLength(2);
    wire.inject(encodeFrame(sealedTyping[0]!));
    await barrier('three');
    expect(typingOf(alice)).toEqual([true, false]);

    bob.m.markRead('alice');
    alice.m.markRead('bob');
    await alice.until(() => alice.m.message(one.key)?.status === 'read');
    await bob.until(() => bob.m.message(two.key)?.status === 'read');

    // On the wire: no receipt of a sealed kind, and every typing and sealed frame is sealed.
    const frames = wire
      .messages()
      .map((m) => decodeFrame(m))
      .flatMap((d): Frame[] => (d.ok ? [d.frame] : []));
    expect(frames.filter((f) => f.type === 'receipt' && SEALED_RECEIPT_KINDS.has(f.kind))).toEqual(
      [],
    );
    const controls = frames.filter((f) => f.type === 'typing' || f.type === 'sealed');
    // Bob's two typing frames; the two read receipts, and the answers to first messages.
    expect(controls.filter((f) => f.type === 'typing')).toHaveLength(2);
    expect(controls.filter((f) => f.type === 'sealed').length).toBeGreaterThanOrEqual(2);
    for (const f of controls) {
      if (f.type === 'typing' || f.type === 'sealed')
        expect(() => parseSealed(f.sealed)).not.toThrow();
    }
  });
});

describe('sessions', () => {
  it("a session's first message is answered: later messages carry no PQXDH header", async () => {
    const r = await relay();
    const wire = await proxy(r);
    const alice = engine(wire.url, 'alice');
    const bob = engine(r.url, 'bob');
    await Promise.all([alice.online(), bob.online()]);
    /** The bytes of each of alice's messages on the wire, by message id. */
    const sizes = () => {
      const out = new Map<number, number>();
      for (const d of wire.messages().map((m) => decodeFrame(m))) {
        if (d.ok && d.frame.type === 'data' && d.frame.from === 'alice') {
          out.set(d.frame.messageId, (out.get(d.frame.messageId) ?? 0) + d.frame.payload.length);
        }
      }
      return out;
    };
    // Bob never writes back, reads nothing and never types: only his answer reaches alice.
    // Her messages go one at a time; once the answer is in, they are small from then on.
    const ids: number[] = [];
    for (let i = 0; i < 20; i++) {
      const sent = alice.m.send('bob', `message ${i}`);
      await bob.until(() => bob.m.message(sent.key)?.text === `message ${i}`);
      ids.push(Number(sent.key.split('/')[2]));
      if (i >= 2 && sizes().get(ids[i]!)! < 400) break;
    }
    const on = ids.map((id) => sizes().get(id)!);
    // The Kyber ciphertext alone is 1,568 bytes.
    expect(on[0]).toBeGreaterThan(1600);
    const small = on.findIndex((n) => n < 400);
    expect(small).toBeGreaterThan(0);
    expect(on.slice(small).every((n) => n < 400)).toBe(true);
  });
});

describe('devices', () => {
  it('every device sees every message; one linked later gets the history; one removed reads nothing after', async () => {
    const r = await relay();
    const wire = await proxy(r);
    const alice1 = engine(r.url, 'alice');
    await alice1.online();
    const alice2 = await TestEngine.linkedTo(alice1);
    cleanup.push(() => alice2.close());
    await alice2.online();
    // Bob's traffic goes through the capture: it shows what he sealed for which device.
    const bob = engine(wire.url, 'bob');
    await bob.online();

    const said: string[] = [];
    const say = (e: TestEngine, to: string, text: string) => {
      said.push(text);
      return e.m.send(to, text);
    };
    say(bob, 'alice', 'one from bob');
    await alice1.until(() => alice1.received('bob').length === 1);
    say(alice1, 'bob', 'two from alice1');
    say(alice2, 'bob', 'three from alice2');
    say(bob, 'alice', 'four from bob');
    const texts = (e: TestEngine, peer: string) =>
      e.conversation(peer).flatMap((v) => (v.text === null ? [] : [v.text]));
    for (const [e, peer] of [
      [alice1, 'bob'],
      [alice2, 'bob'],
      [bob, 'alice'],
    ] as const) {
      await e.until(() => texts(e, peer).length === 4);
      expect(new Set(texts(e, peer))).toEqual(new Set(said));
    }

    // A third device, linked now, shows the conversation so far.
    const alice3 = await TestEngine.linkedTo(alice1);
    cleanup.push(() => alice3.close());
    await alice3.until(() => texts(alice3, 'bob').length === 4);
    expect(texts(alice3, 'bob')).toEqual(texts(alice1, 'bob'));

    // Alice removes her second device; bob's next message is not sealed for it.
    const removed = alice2.m.device;
    await alice1.m.unlinkDevice(removed);
    await alice2.until(() => !alice2.m.online);
    const after = say(bob, 'alice', 'after the removal');
    await alice3.until(() => texts(alice3, 'bob').includes('after the removal'));
    await alice1.until(() => texts(alice1, 'bob').includes('after the removal'));
    expect(texts(alice2, 'bob')).not.toContain('after the removal');
    const sealedFor = sealedDevices(wire.towardsRelay(), after.id);
    expect(sealedFor).toContain(alice1.m.device);
    expect(sealedFor).toContain(alice3.m.device);
    expect(sealedFor).not.toContain(removed);
  });
});

/** The devices a message's sealed body (captured whole, towards the relay) names. */
function sealedDevices(connections: Buffer[], messageId: number): number[] {
  for (const bytes of connections.flatMap(websocketPayloads)) {
    const f = decodeFrame(bytes);
    if (!f.ok || f.frame.type !== 'data' || f.frame.messageId !== messageId) continue;
    if (f.frame.segmentIndex !== 0 || f.frame.segmentCount !== 1) continue;
    return parseSealed(f.frame.payload).entries.map((e) => e.device);
  }
  throw new Error(`message ${messageId} was not captured whole`);
}

/**
 * The binary WebSocket messages a client sent on one connection (RFC 6455 section 5.2),
 * after its HTTP upgrade request.
 */
function websocketPayloads(stream: Buffer): Uint8Array[] {
  const out: Uint8Array[] = [];
  const head = stream.indexOf('\r\n\r\n');
  if (head < 0) return out;
  let at = head + 4;
  while (at + 2 <= stream.length) {
    const b1 = stream[at + 1]!;
    let len = b1 & 0x7f;
    let p = at + 2;
    if (len === 126) {
      len = stream.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      len = Number(stream.readBigUInt64BE(p));
      p += 8;
    }
    const mask = (b1 & 0x80) !== 0 ? stream.subarray(p, p + 4) : null;
    if (mask) p += 4;
    if (p + len > stream.length) break;
    const payload = Buffer.from(stream.subarray(p, p + len));
    if (mask) for (let i = 0; i < payload.length; i++) payload[i]! ^= mask[i % 4]!;
    if ((stream[at]! & 0x0f) === 2) out.push(payload);
    at = p + len;
  }
  return out;
}
