import { describe, expect, it } from 'vitest';
import { inOtherDialog, wrapFocus } from './focus-trap.ts';

describe('wrapFocus', () => {
  const items = ['a', 'b', 'c'];

  it('wraps Tab from the last to the first, and Shift+Tab from the first to the last', () => {
    expect(wrapFocus(items, 'c', false)).toBe('a');
    expect(wrapFocus(items, 'a', true)).toBe('c');
  });

  it('leaves moves inside the list to the browser', () => {
    expect(wrapFocus(items, 'a', false)).toBeNull();
    expect(wrapFocus(items, 'b', true)).toBeNull();
    expect(wrapFocus(items, 'c', true)).toBeNull();
  });

  it('brings focus from outside the list back to its ends', () => {
    expect(wrapFocus(items, 'elsewhere', false)).toBe('a');
    expect(wrapFocus(items, null, true)).toBe('c');
  });

  it('does nothing without focusable elements', () => {
    expect(wrapFocus([], 'a', false)).toBeNull();
  });
});

describe('inOtherDialog', () => {
  /** An element whose nearest modal dialog (itself included) is `top`. */
  const inside = (top: Element | null) => ({ closest: () => top }) as unknown as Element;
  const settings = {} as Element;
  const question = {} as Element;

  it('gives keys to the dialog on top: focus in another modal dialog is not this one’s', () => {
    expect(inOtherDialog(settings, inside(question))).toBe(true);
    expect(inOtherDialog(settings, inside(settings))).toBe(false);
    expect(inOtherDialog(settings, inside(null))).toBe(false);
    expect(inOtherDialog(settings, null)).toBe(false);
  });
});
