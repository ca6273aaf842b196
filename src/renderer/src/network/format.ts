// Numbers and times as the network view shows them, in the UI's language.

const cache = new Map<string, Intl.NumberFormat>();
function numberFormat(locale: string, options: Intl.NumberFormatOptions): Intl.NumberFormat {
  const key = `${locale}|${JSON.stringify(options)}`;
  let format = cache.get(key);
  if (format === undefined) {
    format = new Intl.NumberFormat(locale, options);
    cache.set(key, format);
  }
  return format;
}

/** A counter: whole, with digit grouping. */
export function formatCount(locale: string, n: number): string {
  return numberFormat(locale, { maximumFractionDigits: 0 }).format(n);
}

/** A measured value (a rate, a time): at most one decimal. */
export function formatValue(locale: string, n: number): string {
  return numberFormat(locale, {
    maximumFractionDigits: n !== 0 && Math.abs(n) < 10 ? 1 : 0,
  }).format(n);
}

/**
 * An axis label, short enough for the narrow margin left of the plot in every language:
 * SI prefixes (1.5k, 2M) rather than Intl's compact notation, which in Russian is twice as
 * long ("1,5 тыс.").
 */
export function formatAxis(locale: string, n: number): string {
  const abs = Math.abs(n);
  const [scaled, suffix] = abs >= 1e6 ? [n / 1e6, 'M'] : abs >= 1e3 ? [n / 1e3, 'k'] : [n, ''];
  return numberFormat(locale, { maximumFractionDigits: 1 }).format(scaled) + suffix;
}

/** A fraction 0–1 as a percentage with up to two decimals. */
export function formatPercent(locale: string, fraction: number): string {
  return numberFormat(locale, { style: 'percent', maximumFractionDigits: 2 }).format(fraction);
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

/** Local wall-clock time with milliseconds, as a log shows it: 14:03:07.250. */
export function formatClock(at: number): string {
  const d = new Date(at);
  return `${pad(d.getHours(), 2)}:${pad(d.getMinutes(), 2)}:${pad(d.getSeconds(), 2)}.${pad(d.getMilliseconds(), 3)}`;
}
