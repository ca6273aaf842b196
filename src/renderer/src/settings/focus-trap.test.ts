import { describe, expect, it } from 'vitest';
import { wrapFocus } from './focus-trap.ts';

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
