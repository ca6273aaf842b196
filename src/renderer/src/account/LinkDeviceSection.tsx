// Settings: "Link a device". Asks the host for a one-time code and shows it large and grouped,
// as a QR code, and with the time it has left. The new device types it; its request then
// comes as a link-request event (LinkRequestDialog asks Accept or Decline).
import { useEffect, useState } from 'react';
import type { LinkCodeView } from '../../../shared/api.ts';
import type { StrataApi } from '../../../shared/contract.ts';
import { useNow } from '../components/useNow.ts';
import { describeError } from '../errors.ts';
import { useT } from '../i18n.ts';
import { countdown } from '../model/account.ts';
import { CodeText } from './CodeText.tsx';
import { QrCode } from './QrCode.tsx';

type State =
  | { kind: 'idle' }
  | { kind: 'busy' }
  | { kind: 'failed'; detail: string }
  | { kind: 'shown'; offer: LinkCodeView };

const COUNTDOWN_TICK_MS = 1000;

export function LinkDeviceSection({ api }: { api: StrataApi }) {
  const t = useT();
  const [state, setState] = useState<State>({ kind: 'idle' });

  // The code is gone once a device used it: a new one is asked for if needed.
  useEffect(
    () =>
      api.subscribe((e) => {
        if (e.type === 'device-linked') setState({ kind: 'idle' });
      }),
    [api],
  );

  async function start() {
    setState({ kind: 'busy' });
    try {
      setState({ kind: 'shown', offer: await api.call('createLinkCode', {}) });
    } catch (err) {
      setState({ kind: 'failed', detail: describeError(err, t) });
    }
  }

  return (
    <section className="settings-section" data-testid="link-section">
      <h3>{t('link.title')}</h3>
      {state.kind === 'shown' ? (
        <ShownCode offer={state.offer} onAgain={() => void start()} />
      ) : (
        <div className="account-actions">
          <button
            type="button"
            className="btn"
            data-testid="link-start"
            aria-disabled={state.kind === 'busy'}
            onClick={() => {
              if (state.kind !== 'busy') void start();
            }}
          >
            {state.kind === 'busy' ? t('link.starting') : t('link.start')}
          </button>
        </div>
      )}
      {state.kind === 'failed' && (
        <p className="settings-error" role="alert" data-testid="link-error">
          {t('link.failed', { detail: state.detail })}
        </p>
      )}
    </section>
  );
}

function ShownCode({ offer, onAgain }: { offer: LinkCodeView; onAgain: () => void }) {
  const t = useT();
  const now = useNow(COUNTDOWN_TICK_MS);
  const expired = now >= offer.expiresAt;
  return (
    <>
      <p className="settings-hint account-lead">{t('link.lead')}</p>
      <div className="link-code-box">
        {!expired && <QrCode text={offer.code} label={t('link.qr')} />}
        <div>
          <CodeText code={offer.code} testId="link-code" />
          <p className="settings-hint" data-testid="link-expiry" role="timer">
            {expired
              ? t('link.expired')
              : t('link.expires', { time: countdown(offer.expiresAt, now) })}
          </p>
        </div>
      </div>
      {expired && (
        <div className="account-actions">
          <button type="button" className="btn" data-testid="link-again" onClick={onAgain}>
            {t('link.again')}
          </button>
        </div>
      )}
    </>
  );
}
