// The relay's channel settings as the network view's form edits them. Probabilities are typed
// as the relay takes them, fractions from 0 to 1 (the form shows each as a percentage too).
// Only the fields the user edited are sent, and of those only the ones that differ from the
// relay's values when these are known: the form works before (or without) loading them.
import {
  CHANNEL_CODES,
  LOSS_MODELS,
  MAX_BURST_BITS,
  type ChannelSettingsView,
} from '../../../shared/contract.ts';
import {
  formatNumberField,
  parseNumberField,
  type NumberFieldError,
  type NumberRule,
} from '../settings/number-field.ts';

export const PROBABILITY_FIELDS = [
  'loss',
  'geGoodToBad',
  'geBadToGood',
  'geLossGood',
  'geLossBad',
  'ber',
  'duplicate',
  'reorder',
] as const;
export const INTEGER_FIELDS = ['burstBits', 'delayMs', 'jitterMs'] as const;
export type NumericField = (typeof PROBABILITY_FIELDS)[number] | (typeof INTEGER_FIELDS)[number];
export type ChannelField = keyof ChannelSettingsView;
/** The fields chosen from a list, with the values the relay takes. */
export const CHOICE_FIELDS = { code: CHANNEL_CODES, lossModel: LOSS_MODELS } as const;
export type ChoiceField = keyof typeof CHOICE_FIELDS;

/** The bounds of the contract's channelPatch, restated for the form's messages. */
export const CHANNEL_RULES: Record<NumericField, NumberRule> = {
  loss: { min: 0, max: 1, integer: false },
  geGoodToBad: { min: 0, max: 1, integer: false },
  geBadToGood: { min: 0, max: 1, integer: false },
  geLossGood: { min: 0, max: 1, integer: false },
  geLossBad: { min: 0, max: 1, integer: false },
  ber: { min: 0, max: 1, integer: false },
  burstBits: { min: 1, max: MAX_BURST_BITS, integer: true },
  duplicate: { min: 0, max: 1, integer: false },
  reorder: { min: 0, max: 1, integer: false },
  delayMs: { min: 0, max: 600_000, integer: true },
  jitterMs: { min: 0, max: 600_000, integer: true },
};

export type ChannelForm = Record<ChannelField, string>;
export type ChannelFieldError = NumberFieldError | 'unknownChoice';

export function isChoice(field: ChannelField): field is ChoiceField {
  return Object.hasOwn(CHOICE_FIELDS, field);
}

/**
 * The mean length of a Gilbert-Elliott loss burst, in frames: the chain stays in the bad state
 * 1 / P(bad -> good) frames on average. Null when it never leaves it.
 */
export function meanBurstFrames(badToGood: number): number | null {
  return badToGood > 0 ? 1 / badToGood : null;
}

export function isProbability(field: ChannelField): field is (typeof PROBABILITY_FIELDS)[number] {
  return (PROBABILITY_FIELDS as readonly string[]).includes(field);
}

/** The relay's settings as the form's text. */
export function channelForm(s: ChannelSettingsView): ChannelForm {
  const form = { code: s.code, lossModel: s.lossModel } as ChannelForm;
  for (const field of [...PROBABILITY_FIELDS, ...INTEGER_FIELDS]) {
    form[field] = formatNumberField(s[field]);
  }
  return form;
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
  for (const field of [...PROBABILITY_FIELDS, ...INTEGER_FIELDS]) {
    const text = edits[field];
    if (text === undefined || text.trim() === '') continue;
    const parsed = parseNumberField(text, CHANNEL_RULES[field]);
    if (!parsed.ok) errors[field] = parsed.error;
    else if (loaded === null || parsed.value !== loaded[field]) patch[field] = parsed.value;
  }
  for (const field of Object.keys(CHOICE_FIELDS) as ChoiceField[]) {
    const value = edits[field];
    if (value === undefined || value === '') continue;
    if (!(CHOICE_FIELDS[field] as readonly string[]).includes(value))
      errors[field] = 'unknownChoice';
    else if (loaded === null || value !== loaded[field]) patch[field] = value;
  }
  return Object.keys(errors).length > 0
    ? { ok: false, errors }
    : { ok: true, patch: patch as Partial<ChannelSettingsView> };
}
