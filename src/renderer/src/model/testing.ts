// A MessageView for tests, with only what a test cares about spelled out.
import type { MessageView } from '../../../shared/api.ts';

export function message(over: Partial<MessageView> & { id: number }): MessageView {
  const author = over.author ?? (over.direction === 'in' ? 'bob' : 'alice');
  const authorDevice = over.authorDevice ?? 1;
  return {
    key: `${author}:${authorDevice}:${over.id}`,
    author,
    authorDevice,
    peer: 'bob',
    direction: 'out',
    text: 'hi',
    sentAt: over.id,
    status: 'sent',
    error: false,
    missing: [],
    segmentCount: 1,
    received: 1,
    file: null,
    ...over,
  };
}
