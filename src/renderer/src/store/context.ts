// How components reach the app's store: StoreProvider at the top, useStrata(selector) below
// (re-rendering when the selected value changes), useStrataStore() for actions and for reading
// the current state in event handlers.
import { createContext, createElement, useContext, type ReactNode } from 'react';
import { useStore, type StoreApi } from 'zustand';
import type { Strata } from './types.ts';

const StoreContext = createContext<StoreApi<Strata> | null>(null);

export function StoreProvider({
  store,
  children,
}: {
  store: StoreApi<Strata>;
  children: ReactNode;
}) {
  return createElement(StoreContext.Provider, { value: store }, children);
}

export function useStrataStore(): StoreApi<Strata> {
  const store = useContext(StoreContext);
  if (store === null) throw new Error('useStrataStore needs a StoreProvider above it');
  return store;
}

export function useStrata<T>(selector: (s: Strata) => T): T {
  return useStore(useStrataStore(), selector);
}
