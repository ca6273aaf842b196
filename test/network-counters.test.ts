// The network view's transport counters against the engines' own truth: texts and a file
// through two real engines and a real relay, on a clean channel and a lossy one. Every
// transmission ends in exactly one of the counters' fates, the first transmissions are the
// messages' segments, the segment log says what the counters say, and a segment's bytes are
// counted the same way wherever they are counted.
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { TransportStats } from '../src/shared/api.ts';
import type { SegmentLogEntry } from '../src/shared/contract.ts';
import { LOG_CAPACITY } from '../src/shared/contract.ts';
import { TestEngine } from './helpers/engine.ts';
import { startRelay, tempDir, type RelayProcess } from './helpers/relay-process.ts';

let relay: RelayProcess;
const engines: TestEngine[] = [];
beforeEach(async () => {
  relay = await startRelay();
});
afterEach(async () => {
  for (const e of engines.splice(0)) await e.close();
  await relay.stop();
});

const SEGMENT = 200;
/** Alice's message of each pair's warm-up, sent before the counters were reset. */
const warmUp = new Set<string>();

async function pair() {
  const suffix = Math.random().toString(36).slice(2, 8);
  const a = `alice-${suffix}`;
  const b = `bob-${suffix}`;
  const start = (user: string) => {
    // Each takes the other's files as a contact's.
    const e = TestEngine.start(
      relay.url,
      user,
      { profileDir: tempDir(`strata-${user}-`), settings: { segmentSize: SEGMENT } },
      [a, b],
    );
    engines.push(e);
    return e;
  };
  const alice = start(a);
  const bob = start(b);
  await alice.until(() => alice.m.online && alice.m.account().keysPublished);
  await bob.until(() => bob.m.online && bob.m.account().keysPublished);
  // A conversation under way: both sessions set up (the first sealed messages carry the
  // session's setup, over a kilobyte), then the counters start from zero.
  bob.m.send(a, 'hi');
  await alice.until(() => alice.received(b).length === 1);
  warmUp.add(alice.m.send(b, 'hi').key);
  await bob.until(() => bob.received(a).length === 1);
  bob.m.markRead(a);
  alice.m.markRead(b);
  await alice.until(() => alice.sent(b).every((v) => v.status === 'read'));
  await bob.until(() => bob.sent(a).every((v) => v.status === 'read'));
  for (const e of [alice, bob]) e.m.resetStats();
  return { alice, bob, a, b };
}

/** Every transmission has exactly one fate, or is still in flight. */
function fates(s: TransportStats): number {
  return (
    s.segmentsAcked +
    s.segmentsLost +
    s.segmentsSuperseded +
    s.segmentsHeld +
    s.segmentsWithdrawn +
    s.segmentsInFlight
  );
}

function sentAfterWarmUp(e: TestEngine, peer: string) {
  return e.sent(peer).filter((v) => !warmUp.has(v.key));
}

function count(log: readonly SegmentLogEntry[], event: SegmentLogEntry['event']): number {
  return log.filter((e) => e.event === event).length;
}

/** Checks the sender's and the receiver's counters against what the engines hold. */
function checkCounters(alice: TestEngine, bob: TestEngine, a: string, b: string) {
  const sent = alice.m.stats(b);
  const got = bob.m.stats(a);
  const segments = sentAfterWarmUp(alice, b).reduce((n, v) => n + v.segmentCount, 0);
  const log = alice.m.segmentLog(b, 0);
  const received = bob.m.segmentLog(a, 0);
  // The test keeps under the log's capacity, so the log holds every event.
  expect(log.length + received.length).toBeLessThan(LOG_CAPACITY);

  // No segment is declared lost once it has been acknowledged.
  const ackedAt = new Map<string, number>();
  for (const e of log) {
    const id = `${e.messageId}:${e.index}`;
    if (e.event === 'acked' && !ackedAt.has(id)) ackedAt.set(id, e.seq);
    if (e.event === 'lost') expect(ackedAt.has(id), `segment ${id} lost after acked`).toBe(false);
  }
  // A segment's bytes are the same in every entry that names it, on both sides.
  const bytes = new Map<string, number>();
  for (const e of [...log, ...received]) {
    const id = `${e.messageId}:${e.index}`;
    expect(bytes.get(id) ?? e.bytes, `bytes of segment ${id}`).toBe(e.bytes);
    bytes.set(id, e.bytes);
  }
  expect(sent.segmentsSent).toBe(sent.firstTransmissions + sent.retransmissions);
  expect(sent.firstTransmissions).toBe(segments);
  expect(fates(sent)).toBe(sent.segmentsSent + sent.segmentsCarried);
  expect(sent.segmentsInFlight).toBe(0);
  expect(sent.bytesSent).toBe(
    sent.bytesAcked +
      sent.bytesLost +
      sent.bytesSuperseded +
      sent.bytesHeld +
      sent.bytesWithdrawn +
      sent.bytesInFlight,
  );
  // The receiver stored each segment once; everything else it got was a copy.
  expect(got.segmentsReceived - got.duplicatesDropped).toBe(segments);

  // The log tells the same story as the counters.
  expect(count(log, 'sent')).toBe(sent.firstTransmissions);
  expect(count(log, 'retransmitted')).toBe(sent.retransmissions);
  expect(count(log, 'acked')).toBe(sent.segmentsAcked);
  expect(count(log, 'lost')).toBe(sent.segmentsLost);
  expect(count(received, 'received') + count(received, 'duplicate')).toBe(got.segmentsReceived);

  return { sent, got, segments };
}

/**
 * Nothing is lost on a clean channel: every transmission was acknowledged, or (a probe sent
 * while a slow machine delayed the ack) made needless by its segment's acknowledged copy.
 */
function cleanChannel(s: TransportStats) {
  expect(s.segmentsLost).toBe(0);
  expect(s.lossRate).toBe(0);
  expect(s.segmentsAcked + s.segmentsSuperseded).toBe(s.segmentsSent);
  expect(s.bytesAcked + s.bytesSuperseded).toBe(s.bytesSent);
}

describe('the network view counters add up', () => {
  it('five texts on a clean channel, all read: every segment sent is acknowledged', async () => {
    const { alice, bob, a, b } = await pair();
    await relay.admin({ loss: 0, duplicate: 0, reorder: 0 });
    for (let i = 0; i < 5; i++) alice.m.send(b, `hello ${i}`);
    await bob.until(() => bob.unread(a) === 5);
    bob.m.markRead(a);
    await alice.until(() => sentAfterWarmUp(alice, b).every((v) => v.status === 'read'));
    const { sent, segments } = checkCounters(alice, bob, a, b);
    expect(segments).toBe(5);
    expect(sent.segmentsAcked).toBeGreaterThanOrEqual(5);
    cleanChannel(sent);
  });

  it('texts and a file on a clean channel: bytes sent and acknowledged agree', async () => {
    const { alice, bob, a, b } = await pair();
    await relay.admin({ loss: 0, duplicate: 0, reorder: 0 });
    for (let i = 0; i < 3; i++) alice.m.send(b, `note ${i}: ${'x'.repeat(450)}`);
    const path = join(tempDir('strata-src-'), 'data.bin');
    const size = 40 * SEGMENT + 17;
    writeFileSync(path, randomBytes(size));
    const file = await alice.m.sendFile(b, path);
    await bob.until(() => bob.m.message(file.key)?.file?.state === 'done');
    await alice.until(() => sentAfterWarmUp(alice, b).every((v) => v.status === 'delivered'));
    const { sent, got } = checkCounters(alice, bob, a, b);
    cleanChannel(sent);
    expect(got.bytesReceived).toBeGreaterThanOrEqual(sent.bytesAcked);
  });

  it('texts and a file on a lossy channel with duplicates and reordering', async () => {
    const { alice, bob, a, b } = await pair();
    await relay.admin({ loss: 0.15, duplicate: 0.05, reorder: 0.1, reorderDelayMs: 5, seed: 7 });
    for (let i = 0; i < 10; i++) alice.m.send(b, `note ${i}: ${'y'.repeat(300)}`);
    const path = join(tempDir('strata-src-'), 'data.bin');
    writeFileSync(path, randomBytes(30 * SEGMENT));
    const file = await alice.m.sendFile(b, path);
    await bob.until(() => bob.m.message(file.key)?.file?.state === 'done');
    await alice.until(() => sentAfterWarmUp(alice, b).every((v) => v.status === 'delivered'));
    const { sent } = checkCounters(alice, bob, a, b);
    expect(sent.retransmissions).toBeGreaterThan(0);
    expect(sent.segmentsLost).toBeGreaterThan(0);
    expect(sent.lossRate).toBe(sent.segmentsLost / sent.segmentsSent);
  });

  it('reset: the counters start again from zero and still add up', async () => {
    const { alice, bob, a, b } = await pair();
    await relay.admin({ loss: 0, duplicate: 0, reorder: 0 });
    alice.m.send(b, 'before the reset');
    await alice.until(() => sentAfterWarmUp(alice, b).every((v) => v.status === 'delivered'));
    expect(alice.m.stats(b).segmentsSent).toBe(1);
    alice.m.resetStats(b);
    bob.m.resetStats();
    const zero = alice.m.stats(b);
    expect(zero.segmentsSent).toBe(0);
    expect(zero.segmentsAcked).toBe(0);
    expect(zero.bytesSent).toBe(0);
    expect(alice.m.segmentLog(b, 0)).toEqual([]);
    expect(bob.m.stats(a).segmentsReceived).toBe(0);
    alice.m.send(b, 'after the reset');
    await alice.until(() => sentAfterWarmUp(alice, b).every((v) => v.status === 'delivered'));
    const after = alice.m.stats(b);
    expect(after.segmentsSent).toBe(1);
    expect(fates(after)).toBe(after.segmentsSent + after.segmentsCarried);
    expect(bob.m.stats(a).segmentsReceived).toBe(1);
  });
});
