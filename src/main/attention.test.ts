import { describe, expect, it } from 'vitest';
import type { MessageView } from '../shared/api.ts';
import type { HostEvent } from '../shared/contract.ts';
import { Attention, NOTIFICATION_BODY_CHARS, truncate, unreadFromTitle } from './attention.ts';

function message(over: Partial<MessageView>): HostEvent {
  return {
    type: 'message',
    message: {
      key: 'bob:1:100',
      id: 100,
      author: 'bob',
      authorDevice: 1,
      peer: 'bob',
      direction: 'in',
      text: 'hello alice',
      sentAt: 1,
      status: 'delivered',
      error: false,
      missing: [],
      segmentCount: 1,
      received: 1,
      file: null,
      ...over,
    },
  };
}

describe('unreadFromTitle', () => {
  it('reads the count of "(N) Strata", and 0 from a title without one', () => {
    expect(unreadFromTitle('(3) Strata')).toBe(3);
    expect(unreadFromTitle('(120) Strata')).toBe(120);
    expect(unreadFromTitle('Strata')).toBe(0);
    expect(unreadFromTitle('Strata (3)')).toBe(0);
    expect(unreadFromTitle('(x) Strata')).toBe(0);
  });
});

describe('truncate', () => {
  it('keeps short text, on one line', () => {
    expect(truncate('hi\n  there')).toBe('hi there');
  });

  it('cuts long text to the limit with an ellipsis, never inside a code point', () => {
    const long = '😀'.repeat(NOTIFICATION_BODY_CHARS + 10);
    const cut = truncate(long);
    expect(Array.from(cut)).toHaveLength(NOTIFICATION_BODY_CHARS);
    expect(cut.endsWith('😀…')).toBe(true);
  });
});

describe('Attention', () => {
  it('notifies a new complete incoming message once, while the window is not focused', () => {
    const a = new Attention();
    expect(a.onEvent(message({}), false)).toEqual({ title: 'bob', body: 'hello alice' });
    // The same message again (a status or segment update): no second notification.
    expect(a.onEvent(message({}), false)).toBeNull();
    expect(a.badgeCount).toBe(1);
  });

  it('counts but does not notify while the window is focused', () => {
    const a = new Attention();
    expect(a.onEvent(message({}), true)).toBeNull();
    expect(a.badgeCount).toBe(1);
  });

  it.each([
    ['an outgoing message', { direction: 'out' as const, author: 'alice' }],
    ['an incomplete message', { text: null, received: 1, segmentCount: 3 }],
    ['a message handed over with the error flag', { error: true, missing: [2] }],
    ['a message already read', { status: 'read' as const }],
  ])('ignores %s', (_, over) => {
    const a = new Attention();
    expect(a.onEvent(message(over), false)).toBeNull();
    expect(a.badgeCount).toBe(0);
  });

  it('ignores events that are not messages', () => {
    const a = new Attention();
    expect(a.onEvent({ type: 'typing', user: 'bob', typing: true }, false)).toBeNull();
    expect(a.badgeCount).toBe(0);
  });

  it('clears a conversation on markRead, and takes the larger of its own and the title count', () => {
    const a = new Attention();
    a.onEvent(message({ key: 'bob:1:1' }), false);
    a.onEvent(message({ key: 'bob:1:2' }), false);
    a.onEvent(message({ key: 'carol:1:3', author: 'carol', peer: 'carol' }), false);
    expect(a.badgeCount).toBe(3);
    a.onMarkRead('bob');
    expect(a.badgeCount).toBe(1);
    a.onTitle('(5) Strata');
    expect(a.badgeCount).toBe(5);
    a.onTitle('Strata');
    expect(a.badgeCount).toBe(1);
  });
});
