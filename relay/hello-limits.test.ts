// The per-address failure window of hellos.
import { expect, it } from 'vitest';
import { AddressFailures, addressOf } from './hello-limits.ts';

it('refuses an address past its failures within the window, and forgives it after', () => {
  const f = new AddressFailures(3, 60_000);
  for (let i = 0; i < 3; i++) {
    expect(f.allows('10.0.0.1', 1000 + i)).toBe(true);
    f.failed('10.0.0.1', 1000 + i);
  }
  expect(f.allows('10.0.0.1', 2000)).toBe(false);
  expect(f.allows('10.0.0.2', 2000)).toBe(true);
  expect(f.allows('10.0.0.1', 60_999)).toBe(false);
  expect(f.allows('10.0.0.1', 61_000)).toBe(true);
});

it('takes the address of an address:port, IPv6 included', () => {
  expect(addressOf('127.0.0.1:5555')).toBe('127.0.0.1');
  expect(addressOf('::ffff:127.0.0.1:5555')).toBe('::ffff:127.0.0.1');
});
