// The relay's channel settings as the network view's form edits them. Probabilities are typed
// as the relay takes them, fractions from 0 to 1 (the form shows each as a percentage too).
// Only the fields the user edited are sent, and of those only the ones that differ from the
// relay's values when these are known: the form works before (or without) loading them.
import { CHANNEL_CODES, type ChannelSettingsView } from '../../../shared/contract.ts';
import {
  formatNumberField,
  parseNumberField,
  type NumberFieldError,
  type NumberRule,
} from '../settings/number-field.ts';

export const PROBABILITY_FIELDS = ['loss', 'ber', 'duplicate', 'reorder'] as const;
export const MS_FIELDS = ['delayMs', 'jitterMs'] as const;
export type NumericField = (typeof PROBABILITY_FIELDS)[number] | (typeof MS_FIELDS)[number];
export type ChannelField = keyof ChannelSettingsView;

/** The bounds of the contract's channelPatch, restated for the form's messages. */
export const CHANNEL_RULES: Record<NumericField, NumberRule> = {
  loss: { min: 0, max: 1, integer: false },
  ber: { min: 0, max: 1, integer: false },
  duplicate: { min: 0, max: 1, integer: false },
  reorder: { min: 0, max: 1, integer: false },
  delayMs: { min: 0, max: 600_000, integer: true },
  jitterMs: { min: 0, max: 600_000, integer: true },
};

export type ChannelForm = Record<ChannelField, string>;
export type ChannelFieldError = NumberFieldError | 'unknownCode';

export function isProbability(field: ChannelField): field is (typeof PROBABILITY_FIELDS)[number] {
  return (PROBABILITY_FIELDS as readonly string[]).includes(field);
}

/** The relay's settings as the form's text. */
export function channelForm(s: ChannelSettingsView): ChannelForm {
  return {
    loss: formatNumberField(s.loss),
    ber: formatNumberField(s.ber),
    code: s.code,
    delayMs: String(s.delayMs),
    jitterMs: String(s.jitterMs),
    duplicate: formatNumberField(s.duplicate),
    reorder: formatNumberField(s.reorder),
  };
}

/** What a field shows: the user's text if edited, else the relay's value, else nothing. */
export function shownValue(
  field: ChannelField,
  loaded: ChannelSettingsView | null,
  edits: Partial<ChannelForm>,
): string {
  return edits[field] ?? (loaded === null ? '' : channelForm(loaded)[field]);
}

export type ChannelFormResult =
  | { ok: true; patch: Partial<ChannelSettingsView> }
  | { ok: false; errors: Partial<Record<ChannelField, ChannelFieldError>> };

/**
 * The patch for the edited fields, in the relay's units, or each edited field's error. A field
 * left empty is not sent (the relay keeps its value); one equal to the loaded value is not sent
 * either.
 */
export function channelPatch(
  loaded: ChannelSettingsView | null,
  edits: Partial<ChannelForm>,
): ChannelFormResult {
  const patch: Partial<Record<ChannelField, number | string>> = {};
  const errors: Partial<Record<ChannelField, ChannelFieldError>> = {};
  for (const field of [...PROBABILITY_FIELDS, ...MS_FIELDS]) {
    const text = edits[field];
    if (text === undefined || text.trim() === '') continue;
    const parsed = parseNumberField(text, CHANNEL_RULES[field]);
    if (!parsed.ok) errors[field] = parsed.error;
    else if (loaded === null || parsed.value !== loaded[field]) patch[field] = parsed.value;
  }
  const code = edits.code;
  if (code !== undefined && code !== '') {
    if (!(CHANNEL_CODES as readonly string[]).includes(code)) errors.code = 'unknownCode';
    else if (loaded === null || code !== loaded.code) patch.code = code;
  }
  return Object.keys(errors).length > 0
    ? { ok: false, errors }
    : { ok: true, patch: patch as Partial<ChannelSettingsView> };
}
