// The CLI's consent commands: `accept USER`, `block USER`, `unblock USER` (contacts.ts) and
// `download KEY` for a received file that waits for a click (over the auto-download size).
import type { MessageView, MessengerEvent } from '../shared/api.ts';
import type { Messenger } from '../core/messenger.ts';
import { MessengerError } from '../core/messenger.ts';
import { EXIT } from './exit-codes.ts';
import { fileJson, messageLine } from './format.ts';

type Out = NodeJS.WritableStream;

/** accept, block, unblock: prints the peer's state after it. */
export function contact(
  m: Messenger,
  action: 'accept' | 'block' | 'unblock',
  peer: string,
  out: Out,
  err: Out,
): number {
  try {
    const state = m.setContact(peer, action);
    out.write(`${peer}: ${state === 'request' ? 'message request' : state}\n`);
    return EXIT.ok;
  } catch (e) {
    if (!(e instanceof MessengerError)) throw e;
    err.write(`strata: ${e.message}\n`);
    return EXIT.usage;
  }
}

/**
 * download KEY: the waiting file starts; waits until it is saved (or fails), then prints it as
 * listen does.
 */
export async function download(
  m: Messenger,
  key: string,
  json: boolean,
  out: Out,
  err: Out,
): Promise<number> {
  try {
    m.downloadFile(key);
  } catch (e) {
    if (!(e instanceof MessengerError)) throw e;
    err.write(`strata: ${e.message}\n`);
    return EXIT.usage;
  }
  const ended = (v: MessageView | null) =>
    v?.file?.state === 'done' || v?.file?.state === 'failed' || v?.file?.state === 'cancelled';
  const view = await new Promise<MessageView>((resolve) => {
    const now = m.message(key);
    if (ended(now)) return resolve(now!);
    const on = (e: MessengerEvent) => {
      if (e.type !== 'message' || e.message.key !== key || !ended(e.message)) return;
      m.off('event', on);
      resolve(e.message);
    };
    m.on('event', on);
  });
  out.write((json ? fileJson(view) : messageLine(view)) + '\n');
  return view.file!.state === 'done' ? EXIT.ok : EXIT.failed;
}
