// Engines (src/core Messenger) embedded in the test process, with helpers that wait on
// their events rather than on the clock.
import type { MessageView, MessengerEvent } from '../../src/shared/api.ts';
import { Messenger, type MessengerOptions } from '../../src/core/messenger.ts';
import { tempDir } from './relay-process.ts';

export class TestEngine {
  readonly m: Messenger;
  readonly events: MessengerEvent[] = [];
  private waiters: (() => void)[] = [];

  constructor(m: Messenger) {
    this.m = m;
    m.on('event', (e) => {
      this.events.push(e);
      for (const w of this.waiters.splice(0)) w();
    });
  }

  /**
   * Another device of `first`'s account, linked as a person would: `first` shows a code, the
   * new profile types it, `first` says yes. Started, with its own profile.
   */
  static async linkedTo(
    first: TestEngine,
    opts: Partial<MessengerOptions> = {},
  ): Promise<TestEngine> {
    const profileDir = opts.profileDir ?? tempDir('strata-engine-');
    const { code } = await first.m.createLinkCode();
    const answered = new Promise<void>((resolve, reject) => {
      const on = (e: MessengerEvent) => {
        if (e.type !== 'link-request') return;
        first.m.off('event', on);
        first.m.answerLink(e.request.device, true).then(() => resolve(), reject);
      };
      first.m.on('event', on);
    });
    await Messenger.link({ profileDir, relayUrl: first.m.relayUrl, code });
    await answered;
    return TestEngine.start(first.m.relayUrl, first.m.user, { ...opts, profileDir });
  }

  /**
   * An engine, started. `accept` names peers it takes messages and files from as contacts
   * (as if it had written to them): without it, they are message requests (consent.ts).
   */
  static start(
    relayUrl: string,
    user: string,
    opts: Partial<MessengerOptions> = {},
    accept: readonly string[] = [],
  ): TestEngine {
    const m = Messenger.open({
      profileDir: opts.profileDir ?? tempDir('strata-engine-'),
      relayUrl,
      user,
      // Received files stay in the test's folders, never in the real ~/Downloads.
      downloadsDir: tempDir('strata-downloads-'),
      ...opts,
    });
    const e = new TestEngine(m);
    for (const peer of accept) if (peer !== user) m.setContact(peer, 'accept');
    m.start();
    return e;
  }

  /** Resolves when `test` holds, re-checked after every event. Keep `test` cheap. */
  async until(test: () => boolean): Promise<void> {
    while (!test()) {
      await new Promise<void>((resolve) => this.waiters.push(resolve));
    }
  }

  online(): Promise<void> {
    return this.until(() => this.m.online);
  }

  /** The whole conversation with `peer`, in send order (paging through the history). */
  conversation(peer: string): MessageView[] {
    const all: MessageView[] = [];
    let before: string | undefined;
    for (;;) {
      const page = this.m.history(
        peer,
        before === undefined ? { limit: 1000 } : { before, limit: 1000 },
      );
      all.unshift(...page);
      if (page.length < 1000) return all;
      before = page[0]!.key;
    }
  }

  /** Complete incoming messages from `peer`, in send order. */
  received(peer: string): MessageView[] {
    return this.conversation(peer).filter((v) => v.direction === 'in' && v.text !== null);
  }

  /** Our own messages to `peer`, in send order. */
  sent(peer: string): MessageView[] {
    return this.conversation(peer).filter((v) => v.direction === 'out');
  }

  /** Complete incoming messages from `peer` not yet read: a cheap count to wait on. */
  unread(peer: string): number {
    return this.m.conversations().find((c) => c.peer === peer)?.unread ?? 0;
  }

  close(): Promise<void> {
    return this.m.close();
  }
}
