// What the window shows: the open chat, drafts, the contact search, and the side panels.
import type { Slice } from './types.ts';

export interface UiSlice {
  selected: string | null;
  drafts: Record<string, string>;
  search: string;
  networkOpen: boolean;
  settingsOpen: boolean;
  setDraft(peer: string, text: string): void;
  setSearch(search: string): void;
  toggleNetwork(open?: boolean): void;
  setSettingsOpen(open: boolean): void;
  closeChat(): void;
}

export const createUiSlice: Slice<UiSlice> = () => (set) => ({
  selected: null,
  drafts: {},
  search: '',
  networkOpen: false,
  settingsOpen: false,
  setDraft: (peer, text) => set((s) => ({ drafts: { ...s.drafts, [peer]: text } })),
  setSearch: (search) => set({ search }),
  toggleNetwork: (open) => set((s) => ({ networkOpen: open ?? !s.networkOpen })),
  setSettingsOpen: (settingsOpen) => set({ settingsOpen }),
  closeChat: () => set({ selected: null }),
});
