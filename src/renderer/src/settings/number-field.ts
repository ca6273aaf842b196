// Parsing of the numbers typed into the settings forms. Russian writes decimals with a comma,
// so both separators are read; anything else that is not a plain number is refused rather
// than guessed at (no "12abc" read as 12, no exponent notation).

export type NumberFieldError = 'empty' | 'notNumber' | 'notInteger' | 'outOfRange';

export type NumberFieldResult =
  { ok: true; value: number } | { ok: false; error: NumberFieldError };

export interface NumberRule {
  min: number;
  max: number;
  integer: boolean;
}

const DECIMAL = /^[+-]?(\d+([.,]\d*)?|[.,]\d+)$/;

export function parseNumberField(text: string, rule: NumberRule): NumberFieldResult {
  const trimmed = text.trim();
  if (trimmed === '') return { ok: false, error: 'empty' };
  if (!DECIMAL.test(trimmed)) return { ok: false, error: 'notNumber' };
  const value = Number(trimmed.replace(',', '.'));
  if (!Number.isFinite(value)) return { ok: false, error: 'notNumber' };
  if (rule.integer && !Number.isInteger(value)) return { ok: false, error: 'notInteger' };
  if (value < rule.min || value > rule.max) return { ok: false, error: 'outOfRange' };
  return { ok: true, value };
}

/** A number as the forms show it: no float noise (1.5, not 1.5000000000000002). */
export function formatNumberField(value: number): string {
  return String(Number(value.toPrecision(12)));
}
