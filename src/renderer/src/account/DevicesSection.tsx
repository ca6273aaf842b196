// Settings: the account's linked devices (name, this one, online or last seen) and removing
// one, after a confirmation. The list comes from the relay's signed device list; it is asked
// again when a device joins or leaves while the section is open.
import { useCallback, useEffect, useState } from 'react';
import type { DeviceView } from '../../../shared/api.ts';
import type { StrataApi } from '../../../shared/contract.ts';
import { presenceLine } from '../components/format.ts';
import { useNow } from '../components/useNow.ts';
import { describeError } from '../errors.ts';
import { useLanguage, useT } from '../i18n.ts';
import { useStrataStore } from '../store/index.ts';
import { Modal } from './Modal.tsx';

type Load = { kind: 'loading' } | { kind: 'failed'; detail: string } | { kind: 'ready' };

export function DevicesSection({ api }: { api: StrataApi }) {
  const t = useT();
  const language = useLanguage();
  const now = useNow();
  const store = useStrataStore();
  const [devices, setDevices] = useState<DeviceView[]>([]);
  const [load, setLoad] = useState<Load>({ kind: 'loading' });
  const [removing, setRemoving] = useState<DeviceView | null>(null);
  const [busy, setBusy] = useState(false);
  const [removeError, setRemoveError] = useState<string | null>(null);

  const refresh = useCallback(async () => {
    try {
      setDevices(await api.call('devices', {}));
      setLoad({ kind: 'ready' });
    } catch (err) {
      setLoad({ kind: 'failed', detail: describeError(err, store.getState().t) });
    }
  }, [api, store]);

  useEffect(() => {
    void refresh();
    // A device joining or leaving (here or on another device) changes the list.
    return api.subscribe((e) => {
      if (e.type === 'device-linked' || e.type === 'device-removed') void refresh();
    });
  }, [api, refresh]);

  async function remove(device: DeviceView) {
    if (busy) return;
    setBusy(true);
    setRemoveError(null);
    try {
      setDevices(await api.call('unlinkDevice', { device: device.device }));
      setRemoving(null);
    } catch (err) {
      setRemoveError(t('devices.removeFailed', { detail: describeError(err, t) }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <section className="settings-section" data-testid="devices-section">
      <h3>{t('devices.title')}</h3>
      {load.kind === 'loading' && <p className="settings-hint">{t('devices.loading')}</p>}
      {load.kind === 'failed' && (
        <p className="settings-error" role="alert">
          {t('devices.loadFailed', { detail: load.detail })}
        </p>
      )}
      <ul className="device-list">
        {devices.map((d) => (
          <li
            key={d.device}
            className="device-row"
            data-testid="device"
            data-device={d.device}
            data-current={d.current}
          >
            <span>
              <span className="device-name" data-testid="device-name">
                {d.name}
              </span>{' '}
              <span className={d.online || d.current ? 'device-meta online' : 'device-meta'}>
                {d.current
                  ? t('devices.current')
                  : presenceLine(d.online, d.lastSeen === 0 ? null : d.lastSeen, now, t, language)}
              </span>
            </span>
            <button
              type="button"
              className="btn btn-small"
              data-testid="device-remove"
              onClick={() => {
                setRemoveError(null);
                setRemoving(d);
              }}
            >
              {t('devices.remove')}
            </button>
          </li>
        ))}
      </ul>
      {removing !== null && (
        <Modal title={t('devices.remove')} testId="device-remove-confirm">
          <p>
            {removing.current
              ? t('devices.removeConfirmSelf')
              : t('devices.removeConfirm', { name: removing.name })}
          </p>
          {removeError !== null && (
            <p className="form-error" role="alert">
              {removeError}
            </p>
          )}
          <div className="account-actions">
            <button
              type="button"
              className="btn btn-primary"
              data-testid="device-remove-yes"
              disabled={busy}
              onClick={() => void remove(removing)}
            >
              {t('devices.removeYes')}
            </button>
            <button
              type="button"
              className="btn"
              data-testid="device-remove-no"
              disabled={busy}
              onClick={() => setRemoving(null)}
            >
              {t('devices.removeNo')}
            </button>
          </div>
        </Modal>
      )}
    </section>
  );
}
