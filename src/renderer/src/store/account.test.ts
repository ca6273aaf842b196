import { describe, expect, it } from 'vitest';
import type { AccountView } from '../../../shared/api.ts';
import { ApiError, type SessionView, type StrataApi } from '../../../shared/contract.ts';
import type { HostClient } from '../api/index.ts';
import { browserEnv, createStrataStore, type StrataStore } from './index.ts';

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

const ACCOUNT: AccountView = {
  user: 'alice',
  device: 7,
  deviceName: 'Strata on laptop',
  state: 'registered',
  identityFingerprint: '0a1b 2c3d',
  recoveryCodePending: true,
  keysPublished: true,
};
const CODE = '1234-5678-9ABC-DEFG-HJKM-NPQR';

/** A store logged in to a host that answers with `answer`; calls are recorded in order. */
function ready(answer: (method: string, params: unknown) => unknown): {
  store: StrataStore;
  calls: { method: string; params: unknown }[];
} {
  const calls: { method: string; params: unknown }[] = [];
  const call = (async (method: string, params: unknown) => {
    calls.push({ method, params });
    return answer(method, params);
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

/** Resolves once the store's state passes `test`. */
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

describe('the recovery code', () => {
  it('is fetched when the account says one waits, and gone once acknowledged', async () => {
    let pending = true;
    const { store, calls } = ready((method) => {
      if (method === 'account') return { ...ACCOUNT, recoveryCodePending: pending };
      if (method === 'pendingRecoveryCode') return pending ? CODE : null;
      if (method === 'acknowledgeRecoveryCode') {
        pending = false;
        return { ...ACCOUNT, recoveryCodePending: false };
      }
      throw new Error(`unexpected ${method}`);
    });
    await store.getState().loadAccount();
    await when(store, () => store.getState().recoveryCode !== null);
    expect(store.getState().recoveryCode).toBe(CODE);

    await store.getState().acknowledgeRecoveryCode();
    expect(store.getState().recoveryCode).toBeNull();
    expect(store.getState().account?.recoveryCodePending).toBe(false);
    // Later account events do not bring it back.
    store
      .getState()
      .onEvent({ type: 'account', account: { ...ACCOUNT, recoveryCodePending: false } });
    expect(store.getState().recoveryCode).toBeNull();
    expect(calls.filter((c) => c.method === 'pendingRecoveryCode')).toHaveLength(1);
  });

  it('is asked for once when account events arrive together', async () => {
    const { store, calls } = ready((method) => {
      if (method === 'pendingRecoveryCode') return CODE;
      throw new Error(`unexpected ${method}`);
    });
    store.getState().onEvent({ type: 'account', account: ACCOUNT });
    store.getState().onEvent({ type: 'account', account: ACCOUNT });
    await when(store, () => store.getState().recoveryCode !== null);
    expect(calls.map((c) => c.method)).toEqual(['pendingRecoveryCode']);
  });

  it('stays when acknowledging fails, for the user to try again', async () => {
    const { store } = ready((method) => {
      if (method === 'pendingRecoveryCode') return CODE;
      throw new ApiError('unreachable', 'gone');
    });
    store.getState().onEvent({ type: 'account', account: ACCOUNT });
    await when(store, () => store.getState().recoveryCode !== null);
    await expect(store.getState().acknowledgeRecoveryCode()).rejects.toThrow('gone');
    expect(store.getState().recoveryCode).toBe(CODE);
    expect(store.getState().account?.recoveryCodePending).toBe(true);
  });
});

describe('the account', () => {
  it('keeps what it knew when the host cannot say', async () => {
    const { store } = ready(() => {
      throw new ApiError('unreachable', 'gone');
    });
    store.setState({ account: { ...ACCOUNT, recoveryCodePending: false } });
    await store.getState().loadAccount();
    expect(store.getState().account?.user).toBe('alice');
  });

  it('follows a refusal: the name taken, said by its screen and not by a toast', () => {
    const { store } = ready(() => null);
    store.getState().onEvent({ type: 'error', code: 'nameTaken', text: 'alice is taken' });
    expect(store.getState().toasts).toEqual([]);
    store.getState().onEvent({
      type: 'account',
      account: { ...ACCOUNT, state: 'name-taken', recoveryCodePending: false },
    });
    expect(store.getState().account?.state).toBe('name-taken');
    // Other refusals still show.
    store.getState().onEvent({ type: 'error', code: 'quotaExceeded', text: 'full' });
    expect(store.getState().toasts).toHaveLength(1);
  });
});

describe('link requests', () => {
  it('wait in order, once per device, until answered', async () => {
    const { store, calls } = ready((method) => {
      if (method === 'answerLink') return null;
      throw new Error(`unexpected ${method}`);
    });
    const phone = { device: 9, name: 'Phone', fingerprint: 'aaaa bbbb' };
    const tablet = { device: 11, name: 'Tablet', fingerprint: 'cccc dddd' };
    store.getState().onEvent({ type: 'link-request', request: phone });
    store.getState().onEvent({ type: 'link-request', request: tablet });
    store.getState().onEvent({ type: 'link-request', request: phone });
    expect(store.getState().linkRequests.map((r) => r.device)).toEqual([11, 9]);

    await store.getState().answerLink(11, false);
    await store.getState().answerLink(9, true);
    expect(store.getState().linkRequests).toEqual([]);
    expect(calls.map((c) => c.params)).toEqual([
      { device: 11, accept: false },
      { device: 9, accept: true },
    ]);
  });

  it('stay when the answer cannot be sent', async () => {
    const { store } = ready(() => {
      throw new ApiError('invalid', 'no such request');
    });
    store.getState().onLinkRequest({ device: 9, name: 'Phone', fingerprint: 'aaaa' });
    await expect(store.getState().answerLink(9, true)).rejects.toThrow('no such request');
    expect(store.getState().linkRequests).toHaveLength(1);
  });
});

describe('identity changes', () => {
  /** Whether the chat with `peer` shows the notice (as IdentityNotice decides). */
  const shows = (store: StrataStore, peer: string) => {
    const s = store.getState();
    return (s.identityChanges[peer] ?? 0) > (s.identityDismissed[peer] ?? 0);
  };

  it('mark the contact until dismissed, and again for a later change', () => {
    const { store } = ready(() => null);
    store.getState().onIdentityChanged('bob', 1000);
    expect(shows(store, 'bob')).toBe(true);
    store.getState().dismissIdentityChange('bob');
    expect(shows(store, 'bob')).toBe(false);
    store
      .getState()
      .onEvent({ type: 'identity-changed', user: 'bob', fingerprint: 'eeee', at: 2000 });
    expect(shows(store, 'bob')).toBe(true);
    expect(shows(store, 'carol')).toBe(false);
  });

  it('come from the conversation’s notices too, kept while no window was open', async () => {
    const { store, calls } = ready((method) => {
      if (method === 'notices') return [{ at: 500, kind: 'identity-changed', fingerprint: 'ffff' }];
      throw new Error(`unexpected ${method}`);
    });
    await store.getState().loadNotices('bob');
    expect(calls).toEqual([{ method: 'notices', params: { peer: 'bob' } }]);
    expect(shows(store, 'bob')).toBe(true);
    store.getState().dismissIdentityChange('bob');
    // Opening the chat again asks again; the same change stays closed.
    await store.getState().loadNotices('bob');
    expect(shows(store, 'bob')).toBe(false);
  });
});
