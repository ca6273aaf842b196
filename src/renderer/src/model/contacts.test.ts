import { describe, expect, it } from 'vitest';
import type { ConversationView, PresenceView } from '../../../shared/api.ts';
import {
  buildContacts,
  filterContacts,
  isUserName,
  startChatCandidate,
  totalUnread,
} from './contacts.ts';
import { message } from './testing.ts';

const presence = (user: string, online: boolean, lastSeen = 1000): PresenceView => ({
  user,
  online,
  devices: online ? 1 : 0,
  lastSeen,
});
const conversation = (peer: string, id: number, unread = 0): ConversationView => ({
  peer,
  contact: 'accepted',
  lastMessage: message({ id, peer }),
  unread,
  presence: null,
});

describe('buildContacts', () => {
  const presenceByUser = Object.fromEntries(
    [
      presence('alice', true),
      presence('zed', true),
      presence('bob', false),
      presence('carol', false, 0),
      presence('dave', true),
    ].map((p) => [p.user, p]),
  );
  const conversations = Object.fromEntries(
    [conversation('bob', 50, 2), conversation('carol', 70), conversation('erin', 60, 1)].map(
      (c) => [c.peer, c],
    ),
  );

  it('lists everyone the relay knows and everyone talked to, without oneself', () => {
    const names = buildContacts(conversations, presenceByUser, 'alice', ['frank'], true).map(
      (c) => c.name,
    );
    expect(names.sort()).toEqual(['bob', 'carol', 'dave', 'erin', 'frank', 'zed']);
  });

  it('sorts by the newest message, then online first, then by name', () => {
    const names = buildContacts(conversations, presenceByUser, 'alice', ['frank'], true).map(
      (c) => c.name,
    );
    expect(names).toEqual(['carol', 'erin', 'bob', 'dave', 'zed', 'frank']);
  });

  it('carries presence, last seen and unread counts', () => {
    const byName = new Map(
      buildContacts(conversations, presenceByUser, 'alice', [], true).map((c) => [c.name, c]),
    );
    expect(byName.get('bob')).toMatchObject({ online: false, lastSeen: 1000, unread: 2 });
    expect(byName.get('carol')).toMatchObject({ lastSeen: null }); // never seen
    expect(byName.get('erin')).toMatchObject({ online: false, lastSeen: null, unread: 1 });
    expect(byName.get('dave')).toMatchObject({ online: true, lastMessage: null, unread: 0 });
  });

  it("prefers live presence over a conversation's snapshot", () => {
    const stale = { ...conversation('bob', 1), presence: presence('bob', false) };
    const [bob] = buildContacts({ bob: stale }, { bob: presence('bob', true) }, null, [], true);
    expect(bob!.online).toBe(true);
  });
});

describe('presence while disconnected', () => {
  it('claims nobody is online when we are not connected to the relay', () => {
    const [bob] = buildContacts({}, { bob: presence('bob', true) }, null, [], false);
    expect(bob).toMatchObject({ online: false, presenceKnown: false });
  });
});

describe('search', () => {
  const contacts = buildContacts(
    {},
    {
      Bob: presence('Bob', true),
      bobby: presence('bobby', false),
      carol: presence('carol', false),
    },
    null,
    [],
    true,
  );

  it('filters by name, ignoring case and surrounding spaces', () => {
    expect(filterContacts(contacts, '  BOB ').map((c) => c.name)).toEqual(['Bob', 'bobby']);
    expect(filterContacts(contacts, '')).toBe(contacts);
  });

  it('offers a new chat only for a valid name not listed and not oneself', () => {
    expect(startChatCandidate('dave', contacts, 'alice')).toBe('dave');
    expect(startChatCandidate(' dave ', contacts, 'alice')).toBe('dave');
    expect(startChatCandidate('carol', contacts, 'alice')).toBeNull();
    expect(startChatCandidate('alice', contacts, 'alice')).toBeNull();
    expect(startChatCandidate('not a name', contacts, 'alice')).toBeNull();
    expect(startChatCandidate('', contacts, 'alice')).toBeNull();
    // Names are case-sensitive: "bob" is someone else than "Bob".
    expect(startChatCandidate('bob', contacts, 'alice')).toBe('bob');
  });

  it("uses the contract's rule for user names", () => {
    expect(isUserName('a.b_c-1')).toBe(true);
    expect(isUserName('x'.repeat(32))).toBe(true);
    expect(isUserName('x'.repeat(33))).toBe(false);
    expect(isUserName('with space')).toBe(false);
  });
});

describe('totalUnread', () => {
  it('adds up every conversation', () => {
    expect(totalUnread({ a: conversation('a', 1, 2), b: conversation('b', 2, 3) })).toBe(5);
    expect(totalUnread({})).toBe(0);
  });
});
