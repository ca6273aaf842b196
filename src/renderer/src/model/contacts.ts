// The sidebar's list: everyone we have talked to or asked the relay about (presence goes only
// to who asks), and any chat the user just started, without the user themself.
import type {
  ContactState,
  ConversationView,
  MessageView,
  PresenceView,
} from '../../../shared/api.ts';
import { isUserName as isContractUserName } from '../../../shared/contract.ts';
import { compareMessages, mergeView } from './messages.ts';

export interface Contact {
  name: string;
  /** False while we are not connected to the relay: then nobody's presence is known. */
  presenceKnown: boolean;
  online: boolean;
  /** Epoch ms; null when the relay has never seen them (or we do not know yet). */
  lastSeen: number | null;
  lastMessage: MessageView | null;
  unread: number;
  /** A message request (they wrote first) or blocked shows so in the list. */
  contact: ContactState;
}

export function buildContacts(
  conversations: Readonly<Record<string, ConversationView>>,
  presence: Readonly<Record<string, PresenceView>>,
  self: string | null,
  started: readonly string[],
  connected: boolean,
): Contact[] {
  const names = new Set([...Object.keys(conversations), ...Object.keys(presence), ...started]);
  if (self !== null) names.delete(self);
  const contacts: Contact[] = [];
  for (const name of names) {
    const conversation = conversations[name];
    // Live presence events win over the snapshot a conversation was loaded with.
    const p = presence[name] ?? conversation?.presence ?? null;
    contacts.push({
      name,
      presenceKnown: connected,
      online: connected && (p?.online ?? false),
      lastSeen: p !== null && p.lastSeen > 0 ? p.lastSeen : null,
      lastMessage: conversation?.lastMessage ?? null,
      unread: conversation?.unread ?? 0,
      contact: conversation?.contact ?? 'accepted',
    });
  }
  return contacts.sort(compareContacts);
}

/** The newest conversation first, then who is online, then by name. */
export function compareContacts(a: Contact, b: Contact): number {
  if (a.lastMessage !== null || b.lastMessage !== null) {
    if (a.lastMessage === null) return 1;
    if (b.lastMessage === null) return -1;
    const byTime = compareMessages(b.lastMessage, a.lastMessage);
    if (byTime !== 0) return byTime;
  }
  if (a.online !== b.online) return a.online ? -1 : 1;
  return (
    a.name.localeCompare(b.name, undefined, { sensitivity: 'base' }) ||
    (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  );
}

export function filterContacts(contacts: readonly Contact[], query: string): Contact[] {
  const q = query.trim().toLocaleLowerCase();
  if (q === '') return contacts as Contact[];
  return contacts.filter((c) => c.name.toLocaleLowerCase().includes(q));
}

/** Whether the host will accept `name` as a user name (the contract's own rule decides). */
export const isUserName = isContractUserName;

/**
 * The name a "Start chat with …" offer should carry for this search, if any: a valid user
 * name that is neither listed already nor the user themself.
 */
export function startChatCandidate(
  query: string,
  contacts: readonly Contact[],
  self: string | null,
): string | null {
  const name = query.trim();
  if (name === '' || name === self || !isUserName(name)) return null;
  return contacts.some((c) => c.name === name) ? null : name;
}

export function totalUnread(conversations: Readonly<Record<string, ConversationView>>): number {
  let sum = 0;
  for (const c of Object.values(conversations)) sum += c.unread;
  return sum;
}

/**
 * The host's `conversations` answer merged into what events have shown meanwhile. The answer is
 * the truth as of when the host gave it, but events that arrived while it travelled are newer:
 * where the shown last message is newer than the answer's, the answer is stale for that chat,
 * so its preview stays and its unread count may not go down (`stale` names those chats, whose
 * counts are worth asking for again). Chats whose first message came meanwhile stay listed.
 */
export function mergeConversations(
  known: Readonly<Record<string, ConversationView>>,
  answer: readonly ConversationView[],
): { conversations: Record<string, ConversationView>; stale: string[] } {
  const conversations = { ...known };
  const stale: string[] = [];
  for (const c of answer) {
    const shown = known[c.peer];
    const newer = shown?.lastMessage ?? null;
    if (newer !== null && (c.lastMessage === null || compareMessages(newer, c.lastMessage) > 0)) {
      conversations[c.peer] = {
        ...c,
        lastMessage: newer,
        unread: Math.max(c.unread, shown!.unread),
      };
      stale.push(c.peer);
    } else if (newer !== null && newer.key === c.lastMessage?.key) {
      // The same message: its status only moves forward.
      conversations[c.peer] = { ...c, lastMessage: mergeView(newer, c.lastMessage) };
    } else {
      conversations[c.peer] = c;
    }
  }
  return { conversations, stale };
}
