import { describe, expect, it } from 'vitest';
import { statusAdvances, type MessageStatus } from './api.ts';

describe('statusAdvances', () => {
  const all: MessageStatus[] = ['pending', 'sent', 'delivered', 'read', 'failed'];

  it('moves only forward along pending, sent, delivered, read', () => {
    expect(statusAdvances('pending', 'sent')).toBe(true);
    expect(statusAdvances('pending', 'delivered')).toBe(true);
    expect(statusAdvances('sent', 'read')).toBe(true);
    expect(statusAdvances('delivered', 'sent')).toBe(false);
    expect(statusAdvances('read', 'delivered')).toBe(false);
    for (const s of all) expect(statusAdvances(s, s)).toBe(false);
  });

  it('fails only what the relay never held, and a late delivery still counts', () => {
    expect(statusAdvances('pending', 'failed')).toBe(true);
    for (const s of ['sent', 'delivered', 'read'] as const)
      expect(statusAdvances(s, 'failed')).toBe(false);
    expect(statusAdvances('failed', 'delivered')).toBe(true);
    expect(statusAdvances('failed', 'pending')).toBe(false);
  });
});
