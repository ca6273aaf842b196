// What a failed call tells the user, in their language. The codes the UI can say itself are
// said in words; the others carry the host's own sentence (a refusal it explains).
import { ApiError } from '../../shared/contract.ts';
import type { Translate } from './i18n.ts';

export function describeError(e: unknown, t: Translate): string {
  if (e instanceof ApiError) {
    // The renderer's own link to its host (the WebSocket client's English says the same).
    if (e.code === 'unreachable') return t('error.hostUnreachable');
    if (e.code === 'notLoggedIn') return t('error.notLoggedIn');
    return e.message;
  }
  return e instanceof Error ? e.message : String(e);
}
