// What a failed call tells the user, in their language.
import { ApiError } from '../../shared/contract.ts';
import type { Translate } from './i18n.ts';

export function describeError(e: unknown, t: Translate): string {
  if (e instanceof ApiError) {
    if (e.code === 'unreachable') return t('error.hostUnreachable', { detail: e.message });
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
