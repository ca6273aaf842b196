import { describe, expect, it } from 'vitest';
import { compareMessages, markIncomingRead, mergeMessages, mergeView } from './messages.ts';
import { message } from './testing.ts';

describe('mergeView', () => {
  it('never moves an outgoing status backwards', () => {
    const delivered = message({ id: 1, status: 'delivered' });
    const lateSent = message({ id: 1, status: 'sent' });
    expect(mergeView(delivered, lateSent).status).toBe('delivered');
    expect(mergeView(lateSent, delivered).status).toBe('delivered');
    expect(mergeView(message({ id: 1, status: 'read' }), delivered).status).toBe('read');
  });

  it('lets failed replace pending only, and a retried message move on from failed', () => {
    const failed = message({ id: 1, status: 'failed' });
    expect(mergeView(message({ id: 1, status: 'pending' }), failed).status).toBe('failed');
    expect(mergeView(message({ id: 1, status: 'sent' }), failed).status).toBe('sent');
    expect(mergeView(failed, message({ id: 1, status: 'sent' })).status).toBe('sent');
  });

  it('takes the newer text, error and progress even when the status stays', () => {
    const receiving = message({ id: 1, direction: 'in', text: null, received: 2, segmentCount: 5 });
    const read = { ...receiving, status: 'read' as const };
    const complete = message({
      id: 1,
      direction: 'in',
      text: 'whole',
      received: 5,
      segmentCount: 5,
    });
    const merged = mergeView(read, { ...complete, status: 'delivered' });
    expect(merged).toMatchObject({ text: 'whole', received: 5, status: 'read' });
  });
});

describe('mergeMessages', () => {
  const a = message({ id: 10 });
  const b = message({ id: 20 });
  const c = message({ id: 30 });

  it('appends a newer message without touching the rest', () => {
    const { list, inserted } = mergeMessages([a, b], [c], 'batch');
    expect(list).toEqual([a, b, c]);
    expect(list[0]).toBe(a);
    expect(inserted).toBe(1);
  });

  it('puts an older page in front and interleaves by id, then key', () => {
    const sameIdOtherDevice = message({ id: 20, authorDevice: 0 });
    const { list, inserted } = mergeMessages([b, c], [sameIdOtherDevice, a], 'list');
    expect(list.map((m) => m.key)).toEqual([a.key, sameIdOtherDevice.key, b.key, c.key]);
    expect(inserted).toBe(2);
    for (let i = 1; i < list.length; i++) {
      expect(compareMessages(list[i - 1]!, list[i]!)).toBeLessThan(0);
    }
  });

  it('updates a message in place, keeping its status forward', () => {
    const delivered = { ...b, status: 'delivered' as const };
    const { list, inserted } = mergeMessages(
      [a, delivered, c],
      [{ ...b, status: 'sent' }],
      'batch',
    );
    expect(inserted).toBe(0);
    expect(list[1]!.status).toBe('delivered');
  });

  it('prefers the list over a late history page when told the list is newer', () => {
    const eventView = { ...b, text: 'edited by event', status: 'delivered' as const };
    const pageView = { ...b, text: 'from page', status: 'sent' as const };
    const { list } = mergeMessages([eventView], [pageView], 'list');
    expect(list).toEqual([eventView]);
  });

  it('collapses several versions of one message in a batch in arrival order', () => {
    const pending = message({ id: 40, status: 'pending' });
    const sent = { ...pending, status: 'sent' as const };
    const delivered = { ...pending, status: 'delivered' as const };
    const { list } = mergeMessages([a], [pending, delivered, sent], 'batch');
    expect(list.map((m) => m.status)).toEqual(['sent', 'delivered']);
  });

  it('returns the same list for an empty batch', () => {
    const list = [a, b];
    expect(mergeMessages(list, [], 'batch').list).toBe(list);
  });

  it('stays fast with 100,000 messages', () => {
    const big = Array.from({ length: 100_000 }, (_, i) => message({ id: i + 1 }));
    const started = performance.now();
    let list = big;
    for (let i = 0; i < 100; i++)
      list = mergeMessages(list, [message({ id: 200_000 + i })], 'batch').list;
    const older = Array.from({ length: 200 }, (_, i) => message({ id: -1000 + i }));
    list = mergeMessages(list, older, 'list').list;
    expect(list).toHaveLength(100_300);
    expect(performance.now() - started).toBeLessThan(2000);
  });
});

describe('markIncomingRead', () => {
  it('marks complete incoming messages read and leaves the rest alone', () => {
    const incoming = message({ id: 1, direction: 'in', status: 'delivered' });
    const partial = message({ id: 2, direction: 'in', status: 'delivered', text: null });
    const outgoing = message({ id: 3, status: 'delivered' });
    const out = markIncomingRead([incoming, partial, outgoing]);
    expect(out.map((m) => m.status)).toEqual(['read', 'delivered', 'delivered']);
    expect(out[1]).toBe(partial);
  });

  it('returns the same list when nothing was unread', () => {
    const list = [message({ id: 1, direction: 'in', status: 'read' })];
    expect(markIncomingRead(list)).toBe(list);
  });
});
