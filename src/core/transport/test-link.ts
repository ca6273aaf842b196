// A stand-in for the relay link in the transport's unit tests: it records every frame sent
// and never answers one. `online` says whether the link is up (default: always); `alive`
// is what a ping would find (false: the link died silently).
import type { Frame } from '../../shared/protocol/index.ts';
import type { RelayConnection } from '../connection.ts';

export function recordingLink(
  sent: Frame[],
  { online = () => true, alive = true }: { online?: () => boolean; alive?: boolean } = {},
): RelayConnection {
  return {
    get isOnline() {
      return online();
    },
    buffered: 0,
    on: () => undefined,
    batch: <T>(fn: () => T): T => fn(),
    send: (f: Frame) => {
      sent.push(f);
      return true;
    },
    confirmAlive: () => Promise.resolve(alive),
  } as unknown as RelayConnection;
}
