// `npm run seed-history -- --profile DIR --peer NAME [--count N]`: fills a profile with a long
// conversation, written straight into its database, so that the UI can be tried (and tested)
// with 100,000 messages without sending them through a relay one by one. The profile must
// already belong to a user (log in once first); the app must not be running on it.
//
// The messages are ordinary complete messages, half from the user and half from the peer,
// one a minute back from now, with ids from the profile's own clock rules, so everything the
// app does with real history (paging, day separators, read state) applies to them.
import { parseArgs } from 'node:util';
import { closeDatabase, openDatabase } from '../src/core/store/database.ts';
import { LOGICAL_PER_MS } from '../src/core/transport/message-clock.ts';
import { isValidUserName } from '../src/shared/protocol/index.ts';

const KIND_TEXT = 1;
const PEER_DEVICE = 1;

export interface SeedOptions {
  profileDir: string;
  peer: string;
  count: number;
  /** The newest message's send time (epoch ms); the others go back one minute each. */
  newest?: number;
}

/** Writes `count` messages between the profile's user and `peer`; returns the user's name. */
export function seedHistory({ profileDir, peer, count, newest = Date.now() }: SeedOptions): string {
  if (!isValidUserName(peer)) throw new Error(`"${peer}" is not a valid user name`);
  if (!Number.isInteger(count) || count < 1 || count > 10_000_000) {
    throw new Error('--count must be a whole number from 1 to 10000000');
  }
  const db = openDatabase(profileDir);
  try {
    const meta = new Map(
      (db.prepare('SELECT key, value FROM meta').all() as { key: string; value: string }[]).map(
        (r) => [r.key, r.value],
      ),
    );
    const user = meta.get('user');
    const device = Number(meta.get('device'));
    if (user === undefined || !Number.isInteger(device)) {
      throw new Error(`${profileDir} has no user yet: log in once with this profile first`);
    }
    const insert = db.prepare(
      `INSERT OR IGNORE INTO messages
         (author, author_device, id, peer, direction, body, segment_count, segment_size, status, received, read)
       VALUES (?, ?, ?, ?, ?, ?, 1, ?, ?, 1, 1)`,
    );
    const encoder = new TextEncoder();
    db.transaction(() => {
      for (let i = 0; i < count; i++) {
        const n = i + 1;
        const out = n % 2 === 1;
        const text = `Message ${n} of ${count}: ${out ? `${user} to ${peer}` : `${peer} to ${user}`}`;
        const utf8 = encoder.encode(text);
        const body = new Uint8Array(utf8.length + 1);
        body[0] = KIND_TEXT;
        body.set(utf8, 1);
        const sentAt = newest - (count - n) * 60_000;
        insert.run(
          out ? user : peer,
          out ? device : PEER_DEVICE,
          sentAt * LOGICAL_PER_MS,
          peer,
          out ? 'out' : 'in',
          body,
          body.length,
          out ? 'read' : 'delivered',
        );
      }
    })();
    return user;
  } finally {
    closeDatabase(db);
  }
}

const isMain = process.argv[1] !== undefined && /seed-history(\.ts)?$/.test(process.argv[1]);
if (isMain) {
  try {
    const { values } = parseArgs({
      options: {
        profile: { type: 'string' },
        peer: { type: 'string' },
        count: { type: 'string', default: '100000' },
      },
    });
    if (values.profile === undefined || values.peer === undefined) {
      throw new Error('--profile DIR and --peer NAME are required');
    }
    const count = Number(values.count);
    const user = seedHistory({ profileDir: values.profile, peer: values.peer, count });
    console.log(`seeded ${count} messages between ${user} and ${values.peer}`);
  } catch (e) {
    console.error(`seed-history: ${(e as Error).message}`);
    process.exitCode = 2;
  }
}
