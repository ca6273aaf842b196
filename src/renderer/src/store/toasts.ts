// Notices not tied to one place (a refusal from the relay, a failed retry): a few at a time,
// each leaving by itself after a while.
import type { Slice } from './types.ts';

/** Toasts leave by themselves after this long (they can be closed earlier). */
const TOAST_MS = 10_000;
/** At most this many toasts show; a newer one pushes out the oldest. */
export const MAX_TOASTS = 4;

export interface Toast {
  id: number;
  text: string;
}

export interface ToastsSlice {
  toasts: Toast[];
  showToast(text: string): void;
  dismissToast(id: number): void;
}

export const createToastsSlice: Slice<ToastsSlice> = () => (set, get) => {
  let nextId = 1;
  const timers = new Map<number, ReturnType<typeof setTimeout>>();
  return {
    toasts: [],

    showToast(text) {
      const { dismissToast } = get();
      // The relay repeats a refusal for every segment it refuses: one notice says it.
      const same = get().toasts.find((x) => x.text === text);
      if (same !== undefined) dismissToast(same.id);
      // A burst of different errors (a relay refusing every file a peer offers) must not bury
      // the window under notices or keep growing the list.
      for (const old of get().toasts.slice(0, 1 - MAX_TOASTS)) dismissToast(old.id);
      const id = nextId++;
      set((s) => ({ toasts: [...s.toasts, { id, text }] }));
      timers.set(
        id,
        setTimeout(() => dismissToast(id), TOAST_MS),
      );
    },

    dismissToast(id) {
      const timer = timers.get(id);
      if (timer !== undefined) clearTimeout(timer);
      timers.delete(id);
      set((s) => ({ toasts: s.toasts.filter((x) => x.id !== id) }));
    },
  };
};
