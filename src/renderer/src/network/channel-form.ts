// The relay's channel settings as the network view's form edits them. Probabilities are typed
// as percentages (students read "2 %" more readily than "0.02") and sent as fractions 0–1, as
// the relay's API takes them.
import { CHANNEL_CODES, type ChannelSettingsView } from '../../../shared/contract.ts';
import {
  formatNumberField,
  parseNumberField,
  type NumberFieldError,
  type NumberRule,
} from '../settings/number-field.ts';

export const PERCENT_FIELDS = ['loss', 'ber', 'duplicate', 'reorder'] as const;
export const MS_FIELDS = ['delayMs', 'jitterMs'] as const;
export type NumericField = (typeof PERCENT_FIELDS)[number] | (typeof MS_FIELDS)[number];
export type ChannelField = keyof ChannelSettingsView;
export type ChannelCode = (typeof CHANNEL_CODES)[number];

/** Input bounds as typed: percentages 0–100, milliseconds as the contract's channelPatch. */
export const CHANNEL_RULES: Record<NumericField, NumberRule> = {
  loss: { min: 0, max: 100, integer: false },
  ber: { min: 0, max: 100, integer: false },
  duplicate: { min: 0, max: 100, integer: false },
  reorder: { min: 0, max: 100, integer: false },
  delayMs: { min: 0, max: 600_000, integer: true },
  jitterMs: { min: 0, max: 600_000, integer: true },
};

export type ChannelForm = Record<ChannelField, string>;
export type ChannelFieldError = NumberFieldError | 'unknownCode';

const isPercent = (f: ChannelField): f is (typeof PERCENT_FIELDS)[number] =>
  (PERCENT_FIELDS as readonly string[]).includes(f);

/** A fraction 0–1 as the percentage the form shows. */
export const toPercent = (fraction: number): string => formatNumberField(fraction * 100);

export function channelForm(s: ChannelSettingsView): ChannelForm {
  return {
    loss: toPercent(s.loss),
    ber: toPercent(s.ber),
    code: s.code,
    delayMs: String(s.delayMs),
    jitterMs: String(s.jitterMs),
    duplicate: toPercent(s.duplicate),
    reorder: toPercent(s.reorder),
  };
}

/** Two probabilities that differ only by the float noise of a percent round trip are equal. */
const EPSILON = 1e-12;

export type ChannelFormResult =
  | { ok: true; patch: Partial<ChannelSettingsView> }
  | { ok: false; errors: Partial<Record<ChannelField, ChannelFieldError>> };

/** The fields that differ from `loaded`, in the relay's units; or each field's error. */
export function channelPatch(loaded: ChannelSettingsView, form: ChannelForm): ChannelFormResult {
  const patch: Partial<Record<ChannelField, number | string>> = {};
  const errors: Partial<Record<ChannelField, ChannelFieldError>> = {};
  for (const field of [...PERCENT_FIELDS, ...MS_FIELDS]) {
    const parsed = parseNumberField(form[field], CHANNEL_RULES[field]);
    if (!parsed.ok) {
      errors[field] = parsed.error;
      continue;
    }
    const value = isPercent(field) ? parsed.value / 100 : parsed.value;
    if (Math.abs(value - loaded[field]) > EPSILON) patch[field] = value;
  }
  if (!(CHANNEL_CODES as readonly string[]).includes(form.code)) errors.code = 'unknownCode';
  else if (form.code !== loaded.code) patch.code = form.code;
  return Object.keys(errors).length > 0
    ? { ok: false, errors }
    : { ok: true, patch: patch as Partial<ChannelSettingsView> };
}
