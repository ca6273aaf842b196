// Keeps Tab inside a modal dialog: from the last focusable element Tab wraps to the first,
// and Shift+Tab from the first wraps to the last.

export const FOCUSABLE =
  'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), [tabindex]:not([tabindex="-1"])';

/**
 * Whether a key press belongs to another dialog over this one (an account question opened on
 * top of settings): then this dialog leaves Tab and Escape to it.
 */
export function inOtherDialog(dialog: Element | null, active: Element | null): boolean {
  const top = active?.closest('[aria-modal="true"]') ?? null;
  return top !== null && top !== dialog;
}

/**
 * The element to focus instead of the browser's default for a Tab press, or null to let the
 * browser move focus (it stays inside the dialog then). `current` is the focused element,
 * which may be the dialog itself or something outside it.
 */
export function wrapFocus<T>(
  focusable: readonly T[],
  current: T | null,
  backwards: boolean,
): T | null {
  const first = focusable[0];
  const last = focusable.at(-1);
  if (first === undefined || last === undefined) return null;
  const index = current === null ? -1 : focusable.indexOf(current);
  if (index === -1) return backwards ? last : first;
  if (backwards && index === 0) return last;
  if (!backwards && index === focusable.length - 1) return first;
  return null;
}

/** Keeps Tab and Shift+Tab inside `dialog`: from its last control to its first, and back. */
export function keepTabInside(dialog: HTMLElement, e: KeyboardEvent): void {
  const focusable = [...dialog.querySelectorAll<HTMLElement>(FOCUSABLE)];
  const active = document.activeElement instanceof HTMLElement ? document.activeElement : null;
  const target = wrapFocus(focusable, active, e.shiftKey);
  if (target !== null) {
    e.preventDefault();
    target.focus();
  }
}
