// One conversation's messages, kept in send order (id, then key: ids are unique per device
// only). Updates arrive from history pages and from events in any order, so merging is the
// one place that decides which version of a message wins.
import { statusAdvances, type MessageView } from '../../../shared/api.ts';

export function compareMessages(a: MessageView, b: MessageView): number {
  if (a.id !== b.id) return a.id - b.id;
  return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
}

/**
 * `next` is the newer view of `current`: its text, error and progress win, but the status
 * only ever moves forward (a late 'sent' must not undo a 'delivered' already shown).
 */
export function mergeView(current: MessageView, next: MessageView): MessageView {
  if (current.status === next.status || statusAdvances(current.status, next.status)) return next;
  return { ...next, status: current.status };
}

export interface MergeResult {
  list: MessageView[];
  /** How many messages were not in the list before. */
  inserted: number;
}

/**
 * Merges `batch` into the sorted `list` (neither is modified). `newer` says which side holds
 * the newer version of a message present in both: events are newer than the list they update;
 * a history page answered late is older than events that arrived while it was loading.
 */
export function mergeMessages(
  list: readonly MessageView[],
  batch: readonly MessageView[],
  newer: 'batch' | 'list',
): MergeResult {
  if (batch.length === 0) return { list: list as MessageView[], inserted: 0 };
  // Collapse repeated versions inside the batch first, in arrival order.
  const byKey = new Map<string, MessageView>();
  for (const m of batch) {
    const seen = byKey.get(m.key);
    byKey.set(m.key, seen === undefined ? m : mergeView(seen, m));
  }
  const incoming = [...byKey.values()].sort(compareMessages);
  const combine = (inList: MessageView, inBatch: MessageView): MessageView =>
    newer === 'batch' ? mergeView(inList, inBatch) : mergeView(inBatch, inList);

  // The common case: one new message after the newest one.
  const last = list[list.length - 1];
  if (last === undefined || compareMessages(incoming[0]!, last) > 0) {
    return { list: [...list, ...incoming], inserted: incoming.length };
  }

  const out: MessageView[] = [];
  let inserted = 0;
  let i = 0;
  let j = 0;
  while (i < list.length || j < incoming.length) {
    const a = list[i];
    const b = incoming[j];
    if (b === undefined) {
      out.push(a!);
      i++;
    } else if (a === undefined) {
      out.push(b);
      inserted++;
      j++;
    } else if (a.key === b.key) {
      out.push(combine(a, b));
      i++;
      j++;
    } else if (compareMessages(a, b) < 0) {
      out.push(a);
      i++;
    } else {
      out.push(b);
      inserted++;
      j++;
    }
  }
  return { list: out, inserted };
}

/** An incoming message that is complete and not yet read here. */
export function isUnreadIncoming(m: MessageView): boolean {
  return m.direction === 'in' && m.text !== null && m.status !== 'read';
}

/** Marks the listed incoming messages read (what `markRead` did on the host). */
export function markIncomingRead(list: readonly MessageView[]): MessageView[] {
  let changed = false;
  const out = list.map((m) => {
    if (!isUnreadIncoming(m)) return m;
    changed = true;
    return { ...m, status: 'read' as const };
  });
  return changed ? out : (list as MessageView[]);
}
