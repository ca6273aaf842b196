// The relay as a router: devices, typing, and refusals, against the real process
// (presence: relay-presence.test.ts).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TestClient, bytesOf } from './helpers/client.ts';
import { startRelay, type RelayProcess } from './helpers/relay-process.ts';

let relay: RelayProcess;
const clients: TestClient[] = [];
async function connect(user: string, device: number): Promise<TestClient> {
  const c = await TestClient.connect(relay.url, user, device);
  clients.push(c);
  return c;
}

beforeAll(async () => {
  relay = await startRelay();
});
afterAll(async () => {
  for (const c of clients) await c.close();
  await relay.stop();
});

describe('routing', () => {
  it('delivers a frame to every device of the recipient and copies it to the sender’s other devices', async () => {
    const bob1 = await connect('bob', 1);
    const bob2 = await connect('bob', 2);
    const alice1 = await connect('alice', 1);
    const alice2 = await connect('alice', 2);
    alice1.send(alice1.data('bob', 100, bytesOf('hello bob')));
    for (const c of [bob1, bob2, alice2]) {
      const f = await c.waitFor((f) => f.type === 'data' && f.messageId === 100);
      expect(f.type === 'data' && new TextDecoder().decode(f.payload)).toBe('hello bob');
      expect(f.from).toBe('alice');
    }
    // The sending device does not get its own frame back.
    bob1.send(bob1.data('alice', 101, bytesOf('reply')));
    await alice1.waitFor((f) => f.type === 'data' && f.messageId === 101);
    expect(alice1.dataFrames().some((f) => f.messageId === 100)).toBe(false);
  });

  it('sends a frame addressed to one device only to that device', async () => {
    const carol1 = await connect('carol', 1);
    const carol2 = await connect('carol', 2);
    const dave = await connect('dave', 1);
    dave.send({ ...dave.data('carol', 200, bytesOf('for device 2')), toDevice: 2 });
    dave.send(dave.data('carol', 201, bytesOf('for everyone')));
    await carol1.waitFor((f) => f.type === 'data' && f.messageId === 201);
    await carol2.waitFor((f) => f.type === 'data' && f.messageId === 201);
    expect(carol2.dataFrames().map((f) => f.messageId)).toEqual([200, 201]);
    expect(carol1.dataFrames().map((f) => f.messageId)).toEqual([201]);
  });

  it('routes typing indicators and receipts', async () => {
    const erin = await connect('erin', 1);
    const frank = await connect('frank', 1);
    erin.send(erin.typing('frank'));
    const t = await frank.waitFor((f) => f.type === 'typing');
    expect(t.type === 'typing' && [...t.sealed]).toEqual([0xe2, 1, 0]);
    frank.send({
      type: 'receipt',
      from: 'frank',
      fromDevice: 1,
      to: 'erin',
      toDevice: 0,
      kind: 'read',
      messageDevice: 1,
      messageIds: [1, 2, 3],
    });
    const r = await erin.waitFor((f) => f.type === 'receipt');
    expect(r.type === 'receipt' && r.messageIds).toEqual([1, 2, 3]);
  });
});

describe('refusals', () => {
  it('answers a frame before hello with an error and closes', async () => {
    const c = await TestClient.open(relay.url, 'ivan', 1);
    c.send(c.typing('bob'));
    const err = await c.waitFor((f) => f.type === 'error');
    expect(err.type === 'error' && err.code).toBe('notAuthenticated');
    expect((await c.whenClosed()).code).toBe(1008);
  });

  it('refuses frames for unknown users and frames with someone else’s name', async () => {
    const judy = await connect('judy', 1);
    judy.send(judy.data('nobody-ever', 300, bytesOf('?')));
    const unknown = await judy.waitFor((f) => f.type === 'error' && f.code === 'unknownRecipient');
    expect(unknown.type === 'error' && unknown.messageId).toBe(300);
    judy.send({ ...judy.data('bob', 301, bytesOf('spoof')), from: 'alice' });
    const mismatch = await judy.waitFor((f) => f.type === 'error' && f.code === 'senderMismatch');
    expect(mismatch.type === 'error' && mismatch.messageId).toBe(301);
  });

  it('replaces an older connection of the same device', async () => {
    const old = await TestClient.connect(relay.url, 'kate', 1);
    const fresh = await connect('kate', 1);
    const err = await old.waitFor((f) => f.type === 'error');
    expect(err.type === 'error' && err.code).toBe('replaced');
    expect((await old.whenClosed()).code).toBe(4000);
    expect(fresh.closed).toBeNull();
  });
});
