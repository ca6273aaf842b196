import { describe, expect, it } from 'vitest';
import type { SafetyNumberView } from '../../../shared/api.ts';
import type { SessionView, StrataApi } from '../../../shared/contract.ts';
import type { HostClient } from '../api/index.ts';
import { browserEnv, createStrataStore, type StrataStore } from './index.ts';
import { identityBlocked } from './safety.ts';

const SESSION: SessionView = {
  profile: 'alice',
  user: 'alice',
  relayUrl: 'ws://127.0.0.1:7000/',
  connection: 'online',
  connectionDetail: null,
  relayFingerprint: null,
  settings: { segmentSize: 1024, assemblyPeriodMs: 1000, idleCycles: 2 },
  files: null,
  host: 'browser',
  preferences: { language: null },
};

const NUMBER = '1234567890'.repeat(6);

/** A store logged in to a host whose safety state for bob is `bob`; calls recorded. */
function ready(bob: SafetyNumberView): { store: StrataStore; calls: string[] } {
  const calls: string[] = [];
  const call = (async (method: string, params: { verified?: boolean }) => {
    calls.push(method);
    if (method === 'safetyNumber') return bob;
    if (method === 'setVerified') return { ...bob, verified: params.verified, changed: false };
    if (method === 'acceptIdentity') return { ...bob, verified: false, changed: false };
    return [];
  }) as StrataApi['call'];
  const api: HostClient = {
    call,
    subscribe: () => () => undefined,
    stageFile: () => Promise.reject(new Error('no files here')),
    stagesPageFiles: true,
  };
  const store = createStrataStore({
    ...browserEnv(),
    windowIsActive: () => true,
    systemLanguages: () => ['en'],
    pageLanguage: () => null,
  });
  store.setState({ phase: { kind: 'ready', api, session: SESSION } });
  return { store, calls };
}

function when(store: StrataStore, test: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = () => {
      if (!test()) return;
      stop();
      resolve();
    };
    const stop = store.subscribe(check);
    check();
  });
}

describe('safety numbers in the window', () => {
  it("an identity change asks for the contact's number: a verified one's change blocks the chat", async () => {
    const { store, calls } = ready({ user: 'bob', number: NUMBER, verified: false, changed: true });
    expect(identityBlocked(store.getState(), 'bob')).toBe(false);
    store.getState().onEvent({ type: 'identity-changed', user: 'bob', fingerprint: 'ee', at: 5 });
    await when(store, () => identityBlocked(store.getState(), 'bob'));
    expect(calls).toContain('safetyNumber');
    await store.getState().acceptIdentity('bob');
    expect(identityBlocked(store.getState(), 'bob')).toBe(false);
    expect(store.getState().safety.bob).toMatchObject({ verified: false, changed: false });
  });

  it('verifying and clearing keep what the host answers', async () => {
    const { store } = ready({ user: 'bob', number: NUMBER, verified: false, changed: false });
    await store.getState().setVerified('bob', true);
    expect(store.getState().safety.bob?.verified).toBe(true);
    await store.getState().setVerified('bob', false);
    expect(store.getState().safety.bob?.verified).toBe(false);
  });
});
