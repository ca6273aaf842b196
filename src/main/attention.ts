// What draws the user's attention to the window: a desktop notification for each new incoming
// message while the window is not focused, and the unread count on the app's badge. Pure logic
// (attention.test.ts); src/main/index.ts shows the notifications and sets the badge.
import type { HostEvent } from '../shared/contract.ts';
import type { MessageView } from '../shared/api.ts';

/** A notification's body shows at most this many characters of the message. */
export const NOTIFICATION_BODY_CHARS = 140;
const ELLIPSIS = '…';

export interface NotificationText {
  title: string;
  body: string;
}

/** The unread count in a renderer title such as "(3) Strata"; 0 without one. */
export function unreadFromTitle(title: string): number {
  const match = /^\((\d{1,6})\)\s/.exec(title);
  return match === null ? 0 : Number(match[1]);
}

/** Shortens `text` to `max` characters (whole code points) with an ellipsis, on one line. */
export function truncate(text: string, max: number = NOTIFICATION_BODY_CHARS): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  const chars = Array.from(oneLine);
  return chars.length <= max
    ? oneLine
    : `${chars
        .slice(0, max - 1)
        .join('')
        .trimEnd()}${ELLIPSIS}`;
}

/** Is this a complete message from someone else that has not been read here? */
function isUnreadIncoming(m: MessageView): m is MessageView & { text: string } {
  return m.direction === 'in' && m.text !== null && !m.error && m.status !== 'read';
}

/**
 * Counts unread incoming messages from the host's events and decides which deserve a
 * notification. The host emits a message event on every change (each segment, each status),
 * so a message is counted, and notified, once: the first time it is seen complete.
 */
export class Attention {
  /** Unread message keys by peer, from the events since the app started. */
  private readonly unread = new Map<string, Set<string>>();
  private titleCount = 0;

  /** Takes a host event; returns the notification to show for it, if any. */
  onEvent(event: HostEvent, windowFocused: boolean): NotificationText | null {
    if (event.type !== 'message' || !isUnreadIncoming(event.message)) return null;
    const m = event.message;
    let keys = this.unread.get(m.peer);
    if (keys === undefined) this.unread.set(m.peer, (keys = new Set()));
    if (keys.has(m.key)) return null;
    keys.add(m.key);
    return windowFocused ? null : { title: m.author, body: truncate(m.text) };
  }

  /** The renderer marked the conversation with `peer` read. */
  onMarkRead(peer: string): void {
    this.unread.delete(peer);
  }

  /** The renderer's window title changed; it carries the renderer's own unread count. */
  onTitle(title: string): void {
    this.titleCount = unreadFromTitle(title);
  }

  /**
   * The count for the badge: the renderer's, which knows the whole history, unless the host's
   * events show more (messages that arrived while the renderer had not yet updated its title).
   */
  get badgeCount(): number {
    let fromEvents = 0;
    for (const keys of this.unread.values()) fromEvents += keys.size;
    return Math.max(this.titleCount, fromEvents);
  }
}
