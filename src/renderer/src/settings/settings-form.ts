// The transport settings form: X, N and K as typed text, checked against the same bounds as
// the API contract, and the patch of the fields that changed.
import type { TransportSettings } from '../../../shared/api.ts';
import { parseNumberField, type NumberFieldError, type NumberRule } from './number-field.ts';

export const SETTINGS_FIELDS = ['segmentSize', 'assemblyPeriodMs', 'idleCycles'] as const;
export type SettingsField = (typeof SETTINGS_FIELDS)[number];

/** The bounds of src/shared/contract.ts's settingsPatch, restated for the form's messages. */
export const SETTINGS_RULES: Record<SettingsField, NumberRule> = {
  segmentSize: { min: 64, max: 65536, integer: true },
  assemblyPeriodMs: { min: 50, max: 60_000, integer: true },
  idleCycles: { min: 1, max: 3, integer: true },
};

export type SettingsForm = Record<SettingsField, string>;

export function settingsForm(settings: TransportSettings): SettingsForm {
  return {
    segmentSize: String(settings.segmentSize),
    assemblyPeriodMs: String(settings.assemblyPeriodMs),
    idleCycles: String(settings.idleCycles),
  };
}

export type SettingsFormResult =
  | { ok: true; patch: Partial<TransportSettings> }
  | { ok: false; errors: Partial<Record<SettingsField, NumberFieldError>> };

/** The changed fields as a patch, or every field's error. An unchanged form gives {}. */
export function settingsPatch(current: TransportSettings, form: SettingsForm): SettingsFormResult {
  const patch: Partial<TransportSettings> = {};
  const errors: Partial<Record<SettingsField, NumberFieldError>> = {};
  for (const field of SETTINGS_FIELDS) {
    const parsed = parseNumberField(form[field], SETTINGS_RULES[field]);
    if (!parsed.ok) errors[field] = parsed.error;
    else if (parsed.value !== current[field]) patch[field] = parsed.value;
  }
  return Object.keys(errors).length > 0 ? { ok: false, errors } : { ok: true, patch };
}
