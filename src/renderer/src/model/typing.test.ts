import { describe, expect, it } from 'vitest';
import { TYPING_IDLE_MS, TYPING_THROTTLE_MS, TypingNotifier, type TypingClock } from './typing.ts';

/** A clock the test moves by hand, running due timers as it goes. */
class ManualClock implements TypingClock {
  time = 0;
  private timers = new Map<number, { at: number; fn: () => void }>();
  private nextId = 1;
  now = () => this.time;
  setTimeout = (fn: () => void, ms: number) => {
    const id = this.nextId++;
    this.timers.set(id, { at: this.time + ms, fn });
    return id;
  };
  clearTimeout = (id: unknown) => {
    this.timers.delete(id as number);
  };
  advance(ms: number) {
    const end = this.time + ms;
    for (;;) {
      const due = [...this.timers.entries()]
        .filter(([, t]) => t.at <= end)
        .sort((a, b) => a[1].at - b[1].at)[0];
      if (due === undefined) break;
      this.timers.delete(due[0]);
      this.time = due[1].at;
      due[1].fn();
    }
    this.time = end;
  }
}

function setup() {
  const clock = new ManualClock();
  const sent: boolean[] = [];
  const notifier = new TypingNotifier((typing) => sent.push(typing), clock);
  return { clock, sent, notifier };
}

describe('TypingNotifier', () => {
  it('says "typing" once at the first key and refreshes at most every 3 s', () => {
    const { clock, sent, notifier } = setup();
    // A key every 200 ms for 6 s: at 0, 200, …, 6000.
    for (let i = 0; i <= 30; i++) {
      notifier.input();
      clock.advance(200);
    }
    expect(sent).toEqual([true, true, true]); // at 0, 3000 and 6000
    expect(TYPING_THROTTLE_MS).toBe(3000);
  });

  it('says "stopped" after 4 s without a key, once', () => {
    const { clock, sent, notifier } = setup();
    notifier.input();
    clock.advance(TYPING_IDLE_MS - 1);
    expect(sent).toEqual([true]);
    clock.advance(1);
    expect(sent).toEqual([true, false]);
    clock.advance(10_000);
    expect(sent).toEqual([true, false]);
  });

  it('stops at once on send or blur, and starts afresh on the next key', () => {
    const { clock, sent, notifier } = setup();
    notifier.input();
    clock.advance(100);
    notifier.stop();
    notifier.stop();
    expect(sent).toEqual([true, false]);
    clock.advance(100);
    notifier.input();
    expect(sent).toEqual([true, false, true]);
  });

  it('does not say "stopped" when it never said "typing"', () => {
    const { sent, notifier } = setup();
    notifier.stop();
    expect(sent).toEqual([]);
  });
});
