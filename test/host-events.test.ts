// What the browser host carries to its page while a long text message moves in small segments:
// the renderer hears of the message (accepted, first segment, complete, each status), never of
// each segment. A thousand events per message would make the page, not the channel, set the pace.
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import type { MessageView } from '../src/shared/api.ts';
import type { HostEvent } from '../src/shared/contract.ts';
import { Host } from '../src/core/host/host.ts';
import { startWebServer } from '../src/core/host/web-server.ts';
import { segmentCount } from '../src/core/transport/segments.ts';
import { staticFixture } from './helpers/static-fixture.ts';
import { startRelay, tempDir } from './helpers/relay-process.ts';

/** A page's socket to its host: every event it was sent, and calls answered in order. */
interface PageSocket {
  events: HostEvent[];
  call(method: string, params: unknown): Promise<unknown>;
  /** Resolves at the first event (seen or to come) for which `test` holds. */
  until(test: (e: HostEvent) => boolean): Promise<void>;
  close(): void;
}

async function pageSocket(port: number, token: string): Promise<PageSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/api?token=${token}`, {
    headers: { Origin: `http://127.0.0.1:${port}` },
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
  const events: HostEvent[] = [];
  const answers = new Map<number, (r: { result?: unknown; error?: unknown }) => void>();
  const waiters: { test: (e: HostEvent) => boolean; resolve: () => void }[] = [];
  ws.on('message', (raw) => {
    const msg = JSON.parse(String(raw)) as {
      id?: number;
      event?: HostEvent;
      result?: unknown;
      error?: unknown;
    };
    if (msg.event !== undefined) {
      events.push(msg.event);
      for (const w of waiters.splice(0)) {
        if (w.test(msg.event)) w.resolve();
        else waiters.push(w);
      }
    } else if (msg.id !== undefined) {
      answers.get(msg.id)?.(msg);
    }
  });
  let next = 1;
  return {
    events,
    call(method, params) {
      const id = next++;
      ws.send(JSON.stringify({ id, method, params }));
      return new Promise((resolve, reject) => {
        answers.set(id, (r) => (r.error === undefined ? resolve(r.result) : reject(r.error)));
      });
    },
    until(test) {
      if (events.some(test)) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ test, resolve }));
    },
    close: () => ws.close(),
  };
}

describe('the host carrying a long message in small segments to its page', () => {
  const cleanup: (() => Promise<unknown>)[] = [];
  afterEach(async () => {
    for (const c of cleanup.splice(0).reverse()) await c();
  });

  it('sends each page a few events per message, none per segment', async () => {
    const relay = await startRelay();
    cleanup.push(() => relay.stop());
    /** A host logged in as `user`, online, and its page's socket. */
    const open = async (user: string): Promise<PageSocket> => {
      const host = await Host.open({
        profileDir: tempDir('strata-host-events-'),
        kind: 'browser',
        relayUrl: relay.url,
        user,
      });
      const server = await startWebServer({ host, staticDir: staticFixture() });
      const page = await pageSocket(server.port, server.token);
      cleanup.push(
        () => host.close(),
        () => server.close(),
        async () => page.close(),
      );
      // It may have come online before the page connected: ask the host itself.
      if (host.session.connection !== 'online') {
        await new Promise<void>((resolve) => {
          const on = (e: HostEvent) => {
            if (e.type !== 'connection' || e.state !== 'online') return;
            host.off('event', on);
            resolve();
          };
          host.on('event', on);
        });
      }
      return page;
    };
    const alice = await open('alice');
    const bob = await open('bob');
    const x = 100;
    await alice.call('updateSettings', { patch: { segmentSize: x } });
    const text = 'one hundred thousand characters in segments of 100 bytes. '
      .repeat(1700)
      .slice(0, 100_000);
    const segments = segmentCount(1 + text.length, x);
    expect(segments).toBeGreaterThan(900);

    const sent = (await alice.call('send', { to: 'bob', text })) as MessageView;
    const ofIt = (e: HostEvent): e is { type: 'message'; message: MessageView } =>
      e.type === 'message' && e.message.key === sent.key;
    await bob.until((e) => ofIt(e) && e.message.text === text);
    await alice.until((e) => ofIt(e) && e.message.status === 'delivered');

    // Alice's page: accepted, then each status it reached (sent, delivered; read if it came).
    const aliceEvents = alice.events.filter(ofIt);
    expect(aliceEvents.length).toBeGreaterThanOrEqual(2);
    expect(aliceEvents.length).toBeLessThanOrEqual(4);
    // Bob's page: its first burst of segments (for the progress bar), then the whole text;
    // one event when a single burst brought them all.
    const bobEvents = bob.events.filter(ofIt);
    expect(bobEvents.length).toBeGreaterThanOrEqual(1);
    expect(bobEvents.length).toBeLessThanOrEqual(2);
    expect(bobEvents.at(-1)!.message.text).toBe(text);
    // The transport's counters go out throttled in time, never once per segment or ack.
    for (const page of [alice, bob]) {
      expect(page.events.filter((e) => e.type === 'stats').length).toBeLessThan(segments / 10);
    }
  });
});
