// End-to-end encryption as the messenger embeds it: the Signal engine (engine.ts), the
// pipeline that seals and opens messages (pipeline.ts), the sealed file source and sink
// (sealed-files.ts) and the history carried to a linked device (history.ts), wired once.
// Built in two steps because the transport takes the sealed source and sink, and the
// pipeline then takes the transport.
import { IdentityKeyPair } from '@signalapp/libsignal-client';
import type { AccountBook } from '../account.ts';
import type { RelayConnection } from '../connection.ts';
import type { MessageClock } from '../transport/message-clock.ts';
import type { Profile } from '../profile.ts';
import { statementCache, type Db } from '../store/database.ts';
import type { SealedFrame, TypingFrame } from '../../shared/protocol/index.ts';
import type { MessageKey } from '../transport/context.ts';
import type { SinkWrite, StreamSink, StreamSource } from '../transport/stream.ts';
import type { Transport } from '../transport/transport.ts';
import type { ContentCipher } from './content.ts';
import { SealedControls } from './controls.ts';
import { SignalEngine } from './engine.ts';
import { HistoryShare } from './history.ts';
import { CryptoPipeline } from './pipeline.ts';
import { SealedSink, sealedSource } from './sealed-files.ts';

export interface EndToEndHooks {
  /** The relay connection: whether it is up, and where sealed typing and receipts go. */
  conn: Pick<RelayConnection, 'isOnline' | 'send'>;
  /** Shows that `user` is typing to us, or stopped. */
  typing: { heard(user: string, typing: boolean): void };
  /** Sealing for `peer` waits for the user to accept their new safety number. */
  blocked(peer: string): boolean;
  /** A message's view changed (sealed, opened, found unreadable). */
  changed(key: MessageKey): void;
  /** One of ours cannot be sealed for its peer at all: it fails with `reason`. */
  failed(key: MessageKey, reason: string): void;
}

export class EndToEnd {
  readonly signal: SignalEngine;
  private readonly db: Db;
  private readonly me: { user: string; device: number };
  private readonly cipher: ContentCipher;
  private readonly accounts: AccountBook;
  private pipeline: CryptoPipeline | null = null;
  private history: HistoryShare | null = null;
  private controls: SealedControls | null = null;

  constructor(
    db: Db,
    profile: Profile,
    accounts: AccountBook,
    cipher: ContentCipher,
    /** Prekeys were published (the account view's keysPublished may have changed). */
    published: () => void,
  ) {
    this.db = db;
    this.me = { user: profile.user, device: profile.device };
    this.cipher = cipher;
    this.accounts = accounts;
    this.signal = new SignalEngine(
      db,
      this.me,
      IdentityKeyPair.deserialize(profile.keys.identity.serialize() as Uint8Array<ArrayBuffer>),
      {
        bundles: (u, devices) => accounts.bundles(u, devices),
        identityKey: (u) => accounts.identityKey(u),
        publish: (upload) => {
          accounts.publishPrekeys(upload);
          published();
        },
      },
      cipher,
    );
    accounts.crypto = {
      prekeyCount: (count) => void this.signal.prekeyCount(count).catch(() => {}),
      devicesChanged: (u) => {
        this.signal.devicesChanged(u);
        this.pipeline?.retry();
      },
    };
  }

  /** The transport's file source, sealing each chunk. */
  source(files: StreamSource): StreamSource {
    return sealedSource(files, () => this.cipher);
  }

  /** The transport's file sink: `files` gets each header once opened, and chunks once checked. */
  sink<W extends SinkWrite>(files: StreamSink<W>): StreamSink {
    return new SealedSink(files, {
      chunks: (key) => this.pipeline?.chunks(key) ?? null,
      whenOpened: (key) => this.pipeline?.whenOpened(key) ?? null,
      header: (key, count, sealed) => this.pipeline?.header(key, count, sealed),
    });
  }

  /** Starts sealing and opening through `transport`; `files` takes opened file headers. */
  attach(transport: Transport, files: StreamSink, clock: MessageClock, hooks: EndToEndHooks) {
    const sql = statementCache(this.db);
    const hide = (key: MessageKey) =>
      sql('UPDATE messages SET hidden = 1 WHERE author = ? AND author_device = ? AND id = ?').run(
        key.author,
        key.authorDevice,
        key.id,
      );
    this.history = new HistoryShare(this.db, this.me, {
      sendToSelf: (body) => {
        hide(transport.accept(this.me.user, clock.next(Date.now()), body));
        this.pipeline?.kick();
      },
    });
    const history = this.history;
    const online = () => hooks.conn.isOnline;
    const controls = new SealedControls(this.signal, this.db, this.me, {
      online,
      send: (frame) => hooks.conn.send(frame),
      typing: (user, typing) => hooks.typing.heard(user, typing),
      receipt: (frame) => transport.onOpenedReceipt(frame),
    });
    this.controls = controls;
    transport.sealReceipt = (to, device, ids, kind) => controls.receipt(to, device, ids, kind);
    this.pipeline = new CryptoPipeline(this.db, this.signal, transport, files, {
      online,
      blocked: hooks.blocked,
      changed: hooks.changed,
      failed: hooks.failed,
      refused: (key) => transport.sendReceipt(key.author, key.authorDevice, [key.id], 'refused'),
      absorb: (key, body) => history.absorb(key, body),
      doubt: (user) => this.accounts.learn(user),
      answer: (user, device) => controls.answer(user, device),
    });
  }

  /** Tells `peer`'s devices whether we are typing (sealed; dropped if it cannot be now). */
  typing(peer: string, typing: boolean): void {
    this.controls?.typing(peer, typing);
  }

  /** A sealed typing indicator or receipt from a peer. */
  onControl(frame: TypingFrame | SealedFrame): void {
    this.controls?.onFrame(frame);
  }

  /** Seals and opens whatever waits. */
  kick(): void {
    this.pipeline?.kick();
  }

  /** Something that held work back changed (an identity accepted): try everything again. */
  retry(): void {
    this.pipeline?.retry();
  }

  /** Welcomed by the relay: device lists are fetched again, waiting work retried. */
  online(): void {
    this.signal.reconnected();
    this.signal.publishIfNever();
    this.pipeline?.retry();
    this.history?.requestIfWanted();
  }

  /** Retries one of ours that failed before it was sealed; false if it is not one. */
  reseal(key: MessageKey): boolean {
    return this.pipeline?.reseal(key) ?? false;
  }

  /**
   * Stops sealing and opening. What is under way (prekeys being published on a first start,
   * a message being sealed) may finish first, for at most `timeoutMs`.
   */
  async close(timeoutMs: number): Promise<void> {
    this.pipeline?.close();
    this.controls?.close();
    await this.signal.idle(timeoutMs);
  }
}
