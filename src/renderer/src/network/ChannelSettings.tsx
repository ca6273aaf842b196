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
import { useLanguage, useT, type Translate } from '../i18n.ts';
import { formatNumberField, parseNumberField } from '../settings/number-field.ts';
import {
  CHANNEL_RULES,
  channelPatch,
  isProbability,
  shownValue,
  type ChannelField,
  type ChannelFieldError,
  type ChannelForm,
  type NumericField,
} from './channel-form.ts';
import { formatPercent } from './format.ts';

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

/** A status in words of the current language (it follows a change of language). */
type Status = { kind: 'idle' | 'busy' | 'ok' | 'error'; say: (t: Translate) => string };

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

function codeLabel(t: Translate, code: string): string {
  return (CHANNEL_CODES as readonly string[]).includes(code)
    ? t(`network.code.${code as (typeof CHANNEL_CODES)[number]}`)
    : code;
}

/** What was applied, as the relay now has it: "Frame loss = 0.2; Code = Hamming [7,4]". */
function appliedSummary(
  t: Translate,
  patch: Partial<ChannelSettingsView>,
  applied: ChannelSettingsView,
): string {
  return (Object.keys(patch) as ChannelField[])
    .map((field) => {
      const value = applied[field];
      const shown = field === 'code' ? codeLabel(t, String(value)) : String(value);
      return `${t(`network.channel.${field}`)} = ${shown}`;
    })
    .join('; ');
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
  const language = useLanguage();
  const idBase = useId();
  const [token, setToken] = useState(readToken);
  // The relay's settings as last loaded or applied, and the user's edits on top of them.
  const [loaded, setLoaded] = useState<ChannelSettingsView | null>(null);
  const [edits, setEdits] = useState<Partial<ChannelForm>>({});
  const [errors, setErrors] = useState<Partial<Record<ChannelField, ChannelFieldError>>>({});
  const [status, setStatus] = useState<Status>({ kind: 'idle', say: () => '' });
  // Buttons stay enabled while busy (a disabled button drops keyboard focus); clicks wait.
  const busy = status.kind === 'busy';

  /** Reads the relay's settings; `keepEdits` when the user did not ask (and may be typing). */
  const load = async (keepEdits: boolean) => {
    if (busy) return;
    if (token.trim() === '') {
      setStatus({ kind: 'error', say: (t) => t('network.channel.needToken') });
      return;
    }
    setStatus({ kind: 'busy', say: (t) => t('network.channel.loading') });
    try {
      const view = await props.api.call('getChannel', { token });
      setLoaded(view);
      if (!keepEdits) {
        setEdits({});
        setErrors({});
      }
      setStatus({ kind: 'ok', say: (t) => t('network.channel.loaded') });
    } catch (e) {
      setStatus({ kind: 'error', say: (t) => callFailure(t, e) });
    }
  };

  // A token remembered from earlier in this session loads the settings at once.
  const loadRef = useRef(load);
  useEffect(() => {
    loadRef.current = load;
  });
  useEffect(() => {
    if (readToken() !== '') void loadRef.current(true);
  }, []);

  const apply = async (e: FormEvent) => {
    e.preventDefault();
    if (busy) return;
    if (token.trim() === '') {
      setStatus({ kind: 'error', say: (t) => t('network.channel.needToken') });
      return;
    }
    const result = channelPatch(loaded, edits);
    if (!result.ok) {
      setErrors(result.errors);
      setStatus({ kind: 'error', say: (t) => t('network.channel.fixFields') });
      return;
    }
    setErrors({});
    if (Object.keys(result.patch).length === 0) {
      setStatus({ kind: 'ok', say: (t) => t('network.channel.nothingChanged') });
      return;
    }
    setStatus({ kind: 'busy', say: (t) => t('network.channel.applying') });
    try {
      const applied = await props.api.call('setChannel', { token, patch: result.patch });
      setLoaded(applied);
      setEdits({});
      setStatus({
        kind: 'ok',
        say: (t) =>
          t('network.channel.applied', { summary: appliedSummary(t, result.patch, applied) }),
      });
    } catch (err) {
      setStatus({ kind: 'error', say: (t) => callFailure(t, err) });
    }
  };

  const edit = (field: ChannelField, value: string) => {
    setEdits((f) => ({ ...f, [field]: value }));
    setErrors(({ [field]: _gone, ...rest }) => rest);
  };

  const numericField = (field: NumericField) => {
    const id = `${idBase}-${field}`;
    const error = errors[field];
    const value = shownValue(field, loaded, edits);
    const parsed = isProbability(field) ? parseNumberField(value, CHANNEL_RULES[field]) : null;
    const describedBy = [
      error !== undefined && `${id}-error`,
      error === undefined && parsed?.ok && `${id}-percent`,
    ]
      .filter(Boolean)
      .join(' ');
    return (
      <div className="net-field" key={field}>
        <div className="net-field-label">
          <label htmlFor={id}>{t(`network.channel.${field}`)}</label>
          {error === undefined && parsed?.ok && (
            <span id={`${id}-percent`} className="net-hint">
              {t('network.channel.asPercent', { percent: formatPercent(language, parsed.value) })}
            </span>
          )}
        </div>
        <input
          id={id}
          className="input"
          type="text"
          inputMode="decimal"
          autoComplete="off"
          placeholder={loaded === null ? t('network.channel.unchanged') : undefined}
          data-testid={TEST_IDS[field]}
          value={value}
          aria-invalid={error !== undefined}
          aria-describedby={describedBy === '' ? undefined : describedBy}
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
  const code = shownValue('code', loaded, edits);
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
                void load(false);
              }
            }}
          />
          <span id={`${tokenId}-hint`} className="net-hint">
            {t('network.channel.tokenHint')}
          </span>
        </div>
        <button
          type="button"
          className="btn btn-small"
          data-testid="channel-load"
          aria-disabled={busy}
          onClick={() => void load(false)}
        >
          {t('network.channel.load')}
        </button>
      </div>
      <form className="net-channel-form" onSubmit={(e) => void apply(e)} noValidate>
        <p className="net-hint">
          {t(loaded === null ? 'network.channel.notLoaded' : 'network.channel.probabilityNote')}
        </p>
        <div className="net-fields">
          {numericField('loss')}
          {numericField('ber')}
          <div className="net-field">
            <label htmlFor={codeId}>{t('network.channel.code')}</label>
            <select
              id={codeId}
              className="select"
              data-testid="channel-code"
              value={code}
              aria-invalid={errors.code !== undefined}
              onChange={(e) => edit('code', e.target.value)}
            >
              {loaded === null && <option value="">{t('network.channel.unchanged')}</option>}
              {code !== '' && !(CHANNEL_CODES as readonly string[]).includes(code) && (
                <option value={code}>{code}</option>
              )}
              {CHANNEL_CODES.map((c) => (
                <option key={c} value={c}>
                  {codeLabel(t, c)}
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
          aria-disabled={busy}
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
        {status.say(t)}
      </p>
    </section>
  );
}
