// A raw test client that seals like an engine: a hostile or broken peer that still has a
// real end-to-end session with its victim (an authenticated contact), so that tests can send
// it well-sealed content that lies (wrong sizes, damaged files, duplicated segments), and
// frames no engine would send.
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import { ChunkCipher } from '../../src/core/crypto/content.ts';
import { SignalEngine, type Sealed } from '../../src/core/crypto/engine.ts';
import { closeDatabase, openDatabase, type Db } from '../../src/core/store/database.ts';
import { rawAccounts } from '../../src/node/raw-accounts.ts';
import { fromBase64, type AccountMessage } from '../../src/shared/protocol/account.ts';
import type { TestClient } from './client.ts';
import { tempDir } from './relay-process.ts';

export class SealingPeer {
  readonly client: TestClient;
  private readonly engine: SignalEngine;
  private readonly db: Db;
  private readonly close: () => void;

  private constructor(client: TestClient) {
    this.client = client;
    const relayId = client.frames().find((f) => f.type === 'challenge');
    if (!relayId || relayId.type !== 'challenge') throw new Error('no challenge yet');
    const account = rawAccounts.account(relayId.relayId, client.user);
    if (!account) throw new Error(`${client.user} has no account made by this process`);
    const db = openDatabase(tempDir('strata-peer-'));
    this.db = db;
    this.close = () => closeDatabase(db);
    this.engine = new SignalEngine(
      db,
      { user: client.user, device: client.device },
      IdentityKeyPair.deserialize(account.identity.serialize() as Uint8Array<ArrayBuffer>),
      {
        bundles: async (user, devices) => {
          const m = await this.ask({ kind: 'bundles', user, devices }, 'bundles', user);
          return m as Extract<AccountMessage, { kind: 'bundles' }>;
        },
        identityKey: async (user) => {
          const m = await this.ask({ kind: 'identities', users: [user] }, 'identities', user);
          const entry = (m as Extract<AccountMessage, { kind: 'identities' }>).entries?.[0];
          return entry?.identityKey ? fromBase64(entry.identityKey) : null;
        },
        publish: (upload) => client.sendAccount(upload),
      },
    );
  }

  static of(client: TestClient): SealingPeer {
    return new SealingPeer(client);
  }

  /** Seals `body` as message `id` to `to`'s devices (their keys must be published). */
  seal(to: string, id: number, body: Uint8Array): Promise<Sealed> {
    return this.engine.seal(
      { user: this.client.user, device: this.client.device, id },
      to,
      body,
      true,
      // Its ratchet moves on as an engine's would (a peer may send many).
      (_sealed, stage) => stage.apply(this.db),
    );
  }

  /** Publishes this peer's prekeys, so that others can seal for it too. */
  publish(): Promise<void> {
    return this.engine.prekeyCount(0);
  }

  /** The cipher of a file's chunks, from its header's content key. */
  chunks(sealed: Sealed): ChunkCipher {
    return new ChunkCipher(sealed.contentKey);
  }

  async closeAll(): Promise<void> {
    await this.client.close();
    this.close();
  }

  /** Sends an account request and resolves with the next answer of `kind` about `user`. */
  private async ask(m: AccountMessage, kind: string, user: string): Promise<AccountMessage> {
    const before = this.client.accountMessages().length;
    this.client.sendAccount(m);
    let found: AccountMessage | undefined;
    await this.client.until(() => {
      found = this.client
        .accountMessages()
        .slice(before)
        .find(
          (a) =>
            a.kind === kind &&
            ((a.kind === 'bundles' && a.user === user) ||
              (a.kind === 'identities' && a.entries?.some((e) => e.user === user))),
        );
      return found !== undefined;
    }, `an answer ${kind} about ${user}`);
    return found!;
  }
}
