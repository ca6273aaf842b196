// The relay's channel, changed from the app: frame loss (independent, or in bursts by the
// Gilbert-Elliott model), bit errors with their burst length and the code that repairs them,
// delay, jitter, duplication and reordering. The relay's admin token guards it; the app only
// passes the token on.
import { useEffect, useId, useRef, useState, type FormEvent } from 'react';
import { ApiError, type ChannelSettingsView, type StrataApi } from '../../../shared/contract.ts';
import { useLanguage, useT, type Translate } from '../i18n.ts';
import { formatNumberField, parseNumberField } from '../settings/number-field.ts';
import {
  CHANNEL_RULES,
  CHOICE_FIELDS,
  channelPatch,
  isChoice,
  isProbability,
  meanBurstFrames,
  shownValue,
  type ChoiceField,
  type ChannelField,
  type ChannelFieldError,
  type ChannelForm,
  type NumericField,
} from './channel-form.ts';
import { formatCount, formatPercent } from './format.ts';

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
  if (error === 'outOfRange' && !isChoice(field)) {
    const rule = CHANNEL_RULES[field];
    return t('network.field.outOfRange', {
      min: formatNumberField(rule.min),
      max: formatNumberField(rule.max),
    });
  }
  return t(`network.field.${error}`);
}

function choiceLabel(t: Translate, field: ChoiceField, value: string): string {
  if (!(CHOICE_FIELDS[field] as readonly string[]).includes(value)) return value;
  return field === 'code'
    ? t(`network.code.${value as (typeof CHOICE_FIELDS)['code'][number]}`)
    : t(`network.lossModel.${value as (typeof CHOICE_FIELDS)['lossModel'][number]}`);
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
      const shown = isChoice(field) ? choiceLabel(t, field, String(value)) : String(value);
      return `${t(`network.channel.${field}`)} = ${shown}`;
    })
    .join('; ');
}

const TEST_IDS: Record<ChannelField, string> = {
  loss: 'channel-loss',
  lossModel: 'channel-loss-model',
  geGoodToBad: 'channel-ge-good-to-bad',
  geBadToGood: 'channel-ge-bad-to-good',
  geLossGood: 'channel-ge-loss-good',
  geLossBad: 'channel-ge-loss-bad',
  ber: 'channel-ber',
  burstBits: 'channel-burst-bits',
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
    const burst = field === 'geBadToGood' && parsed?.ok ? meanBurstFrames(parsed.value) : undefined;
    const describedBy = [
      error !== undefined && `${id}-error`,
      error === undefined && parsed?.ok && `${id}-percent`,
      error === undefined && burst !== undefined && `${id}-burst`,
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
        {error === undefined && burst !== undefined && (
          <span id={`${id}-burst`} className="net-hint" data-testid="channel-mean-burst">
            {burst === null
              ? t('network.channel.burstForever')
              : t('network.channel.meanBurst', {
                  frames: formatCount(language, Math.round(burst * 10) / 10),
                })}
          </span>
        )}
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

  const choiceField = (field: ChoiceField) => {
    const id = `${idBase}-${field}`;
    const value = shownValue(field, loaded, edits);
    const values = CHOICE_FIELDS[field] as readonly string[];
    return (
      <div className="net-field" key={field}>
        <label htmlFor={id}>{t(`network.channel.${field}`)}</label>
        <select
          id={id}
          className="select"
          data-testid={TEST_IDS[field]}
          value={value}
          aria-invalid={errors[field] !== undefined}
          onChange={(e) => edit(field, e.target.value)}
        >
          {loaded === null && <option value="">{t('network.channel.unchanged')}</option>}
          {value !== '' && !values.includes(value) && <option value={value}>{value}</option>}
          {values.map((v) => (
            <option key={v} value={v}>
              {choiceLabel(t, field, v)}
            </option>
          ))}
        </select>
        {errors[field] !== undefined && (
          <span className="net-field-error">{fieldError(t, field, errors[field])}</span>
        )}
      </div>
    );
  };

  const tokenId = `${idBase}-token`;
  // The loss model's own fields; both sets while the relay's model is not known.
  const model = shownValue('lossModel', loaded, edits);
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
          {choiceField('lossModel')}
          {model !== 'gilbert-elliott' && numericField('loss')}
          {model !== 'bernoulli' && (
            <>
              {numericField('geGoodToBad')}
              {numericField('geBadToGood')}
              {numericField('geLossGood')}
              {numericField('geLossBad')}
            </>
          )}
          {numericField('ber')}
          {numericField('burstBits')}
          {choiceField('code')}
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
