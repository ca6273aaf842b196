// The relay's channel, changed from the app: loss, bit errors and the code that repairs them,
// delay, jitter, duplication and reordering. The relay's admin token guards it; the app only
// passes the token on.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import {
  ApiError,
  CHANNEL_CODES,
  type ChannelSettingsView,
  type StrataApi,
} from '../../../shared/contract.ts';
import { useT, type Translate } from '../i18n.ts';
import { formatNumberField } from '../settings/number-field.ts';
import {
  CHANNEL_RULES,
  channelForm,
  channelPatch,
  PERCENT_FIELDS,
  toPercent,
  type ChannelField,
  type ChannelFieldError,
  type ChannelForm,
  type NumericField,
} from './channel-form.ts';

const TOKEN_KEY = 'strata.relayAdminToken';

function readToken(): string {
  try {
    return sessionStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return ''; // storage disabled: the token is typed each time
  }
}

function saveToken(token: string): void {
  try {
    if (token === '') sessionStorage.removeItem(TOKEN_KEY);
    else sessionStorage.setItem(TOKEN_KEY, token);
  } catch {
    // Not remembered; it still works for this view.
  }
}

type Status = { kind: 'idle' | 'busy' | 'ok' | 'error'; text: string };

function callFailure(t: Translate, e: unknown): string {
  const message = e instanceof Error ? e.message : String(e);
  if (e instanceof ApiError && e.code === 'forbidden')
    return t('network.channel.forbidden', { message });
  if (e instanceof ApiError && e.code === 'invalid')
    return t('network.channel.invalid', { message });
  return t('network.channel.failed', { message });
}

function fieldError(t: Translate, field: ChannelField, error: ChannelFieldError): string {
  if (error === 'outOfRange' && field !== 'code') {
    const rule = CHANNEL_RULES[field];
    return t('network.field.outOfRange', {
      min: formatNumberField(rule.min),
      max: formatNumberField(rule.max),
    });
  }
  return t(`network.field.${error}`);
}

/** What was applied, in the form's units: "Frame loss, % = 2.5; Delay, ms = 40". */
function appliedSummary(
  t: Translate,
  patch: Partial<ChannelSettingsView>,
  applied: ChannelSettingsView,
) {
  return (Object.keys(patch) as ChannelField[])
    .map((field) => {
      const value = applied[field];
      const shown =
        field === 'code'
          ? codeLabel(t, String(value))
          : (PERCENT_FIELDS as readonly string[]).includes(field)
            ? toPercent(Number(value))
            : String(value);
      return `${t(`network.channel.${field}`)} = ${shown}`;
    })
    .join('; ');
}

function codeLabel(t: Translate, code: string): string {
  return (CHANNEL_CODES as readonly string[]).includes(code)
    ? t(`network.code.${code as (typeof CHANNEL_CODES)[number]}`)
    : code;
}

const TEST_IDS: Record<ChannelField, string> = {
  loss: 'channel-loss',
  ber: 'channel-ber',
  code: 'channel-code',
  delayMs: 'channel-delay',
  jitterMs: 'channel-jitter',
  duplicate: 'channel-duplicate',
  reorder: 'channel-reorder',
};

export function ChannelSettings(props: { api: StrataApi }) {
  const t = useT();
  const idBase = useId();
  const [token, setToken] = useState(readToken);
  const [loaded, setLoaded] = useState<ChannelSettingsView | null>(null);
  const [form, setForm] = useState<ChannelForm | null>(null);
  const [errors, setErrors] = useState<Partial<Record<ChannelField, ChannelFieldError>>>({});
  const [status, setStatus] = useState<Status>({ kind: 'idle', text: '' });
  const busy = status.kind === 'busy';

  const load = async () => {
    if (token.trim() === '') {
      setStatus({ kind: 'error', text: t('network.channel.needToken') });
      return;
    }
    setStatus({ kind: 'busy', text: t('network.channel.loading') });
    try {
      const view = await props.api.call('getChannel', { token });
      setLoaded(view);
      setForm(channelForm(view));
      setErrors({});
      setStatus({ kind: 'ok', text: t('network.channel.loaded') });
    } catch (e) {
      setStatus({ kind: 'error', text: callFailure(t, e) });
    }
  };

  const apply = async (e: FormEvent) => {
    e.preventDefault();
    if (loaded === null || form === null) {
      setStatus({ kind: 'error', text: t('network.channel.loadFirst') });
      return;
    }
    if (token.trim() === '') {
      setStatus({ kind: 'error', text: t('network.channel.needToken') });
      return;
    }
    const result = channelPatch(loaded, form);
    if (!result.ok) {
      setErrors(result.errors);
      setStatus({ kind: 'error', text: t('network.channel.fixFields') });
      return;
    }
    setErrors({});
    if (Object.keys(result.patch).length === 0) {
      setStatus({ kind: 'ok', text: t('network.channel.nothingChanged') });
      return;
    }
    setStatus({ kind: 'busy', text: t('network.channel.applying') });
    try {
      const applied = await props.api.call('setChannel', { token, patch: result.patch });
      setLoaded(applied);
      setForm(channelForm(applied));
      setStatus({
        kind: 'ok',
        text: t('network.channel.applied', { summary: appliedSummary(t, result.patch, applied) }),
      });
    } catch (err) {
      setStatus({ kind: 'error', text: callFailure(t, err) });
    }
  };

  // A token remembered from earlier in the session loads the settings at once.
  const loadRef = useRef(load);
  useEffect(() => {
    loadRef.current = load;
  });
  useEffect(() => {
    if (readToken() !== '') void loadRef.current();
  }, []);

  const edit = (field: ChannelField, value: string) => {
    setForm((f) => (f === null ? f : { ...f, [field]: value }));
    setErrors((errs) => {
      if (errs[field] === undefined) return errs;
      const { [field]: _gone, ...rest } = errs;
      return rest;
    });
  };

  const numericField = (field: NumericField) => {
    const id = `${idBase}-${field}`;
    const error = errors[field];
    return (
      <div className="net-field" key={field}>
        <label htmlFor={id}>{t(`network.channel.${field}`)}</label>
        <input
          id={id}
          className="input"
          type="text"
          inputMode="decimal"
          autoComplete="off"
          data-testid={TEST_IDS[field]}
          value={form?.[field] ?? ''}
          disabled={form === null || busy}
          aria-invalid={error !== undefined}
          aria-describedby={error !== undefined ? `${id}-error` : undefined}
          onChange={(e) => edit(field, e.target.value)}
        />
        {error !== undefined && (
          <span id={`${id}-error`} className="net-field-error">
            {fieldError(t, field, error)}
          </span>
        )}
      </div>
    );
  };

  const tokenId = `${idBase}-token`;
  const codeId = `${idBase}-code`;
  return (
    <section className="net-section" aria-labelledby={`${idBase}-title`}>
      <h3 id={`${idBase}-title`}>{t('network.channel.title')}</h3>
      <div className="net-token-row">
        <div className="net-field">
          <label htmlFor={tokenId}>{t('network.channel.token')}</label>
          <input
            id={tokenId}
            className="input"
            type="password"
            autoComplete="off"
            spellCheck={false}
            data-testid="channel-token"
            value={token}
            aria-describedby={`${tokenId}-hint`}
            onChange={(e) => {
              setToken(e.target.value);
              saveToken(e.target.value);
            }}
            onKeyDown={(e) => {
              if (e.key === 'Enter') {
                e.preventDefault();
                void load();
              }
            }}
          />
          <span id={`${tokenId}-hint`} className="net-hint">
            {t('network.channel.tokenHint')}
          </span>
        </div>
        <button
          type="button"
          data-testid="channel-load"
          disabled={busy}
          onClick={() => void load()}
        >
          {t('network.channel.load')}
        </button>
      </div>
      <form className="net-channel-form" onSubmit={(e) => void apply(e)} noValidate>
        {form === null && <p className="net-hint">{t('network.channel.loadFirst')}</p>}
        <p className="net-hint">{t('network.channel.percentNote')}</p>
        <div className="net-fields">
          {numericField('loss')}
          {numericField('ber')}
          <div className="net-field">
            <label htmlFor={codeId}>{t('network.channel.code')}</label>
            <select
              id={codeId}
              className="select"
              data-testid="channel-code"
              value={form?.code ?? ''}
              disabled={form === null || busy}
              aria-invalid={errors.code !== undefined}
              onChange={(e) => edit('code', e.target.value)}
            >
              {form !== null && !(CHANNEL_CODES as readonly string[]).includes(form.code) && (
                <option value={form.code}>{form.code}</option>
              )}
              {form === null && <option value="" />}
              {CHANNEL_CODES.map((code) => (
                <option key={code} value={code}>
                  {codeLabel(t, code)}
                </option>
              ))}
            </select>
            {errors.code !== undefined && (
              <span className="net-field-error">{fieldError(t, 'code', errors.code)}</span>
            )}
          </div>
          {numericField('delayMs')}
          {numericField('jitterMs')}
          {numericField('duplicate')}
          {numericField('reorder')}
        </div>
        <button
          type="submit"
          className="btn btn-primary btn-small"
          data-testid="channel-apply"
          disabled={form === null || busy}
        >
          {t('network.channel.apply')}
        </button>
      </form>
      <p
        className={`net-channel-status ${status.kind}`}
        data-testid="channel-status"
        data-state={status.kind}
        role={status.kind === 'error' ? 'alert' : 'status'}
      >
        {status.text}
      </p>
    </section>
  );
}
