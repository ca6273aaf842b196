import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ContactBook } from './contacts.ts';
import { closeDatabase, openDatabase, type Db } from './store/database.ts';

let db: Db;
afterEach(() => closeDatabase(db));

function book() {
  db = openDatabase(mkdtempSync(join(tmpdir(), 'strata-contacts-')));
  return new ContactBook(db, 'bob');
}

function message(peer: string, direction: 'in' | 'out', id: number) {
  db.prepare(
    `INSERT INTO messages (author, author_device, id, peer, direction, segment_count,
       segment_size, status) VALUES (?, 1, ?, ?, ?, 1, 100, 'delivered')`,
  ).run(direction === 'in' ? peer : 'bob', id, peer, direction);
}

describe('contact states', () => {
  it('someone who wrote first is a request; someone we wrote to is accepted', () => {
    const contacts = book();
    message('alice', 'in', 1);
    message('carol', 'out', 2);
    expect(contacts.state('alice')).toBe('request');
    expect(contacts.state('carol')).toBe('accepted');
    expect(contacts.state('bob')).toBe('accepted');
  });

  it('accept, block and unblock, kept in the profile', () => {
    const contacts = book();
    message('alice', 'in', 1);
    expect(contacts.accept('alice')).toBe(true);
    expect(contacts.accept('alice')).toBe(false);
    expect(new ContactBook(db, 'bob').state('alice')).toBe('accepted');
    expect(contacts.block('alice')).toBe(true);
    expect(contacts.blocked('alice')).toBe(true);
    expect(contacts.blockedList()).toEqual(['alice']);
    expect(new ContactBook(db, 'bob').state('alice')).toBe('blocked');
    // Unblocked: back to what they would be without the block (she never got a message).
    expect(contacts.unblock('alice')).toBe(true);
    expect(contacts.state('alice')).toBe('request');
    expect(contacts.unblock('alice')).toBe(false);
  });

  it('a block outlives our writing to them', () => {
    const contacts = book();
    contacts.block('mallory');
    message('mallory', 'out', 3);
    expect(new ContactBook(db, 'bob').state('mallory')).toBe('blocked');
  });
});
