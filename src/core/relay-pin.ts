// Which relay the engine may talk to, and how it knows it is that relay. A `wss://` URL may
// carry the SHA-256 of the relay's certificate (`wss://host:port/#sha256=<hex>`, as the relay
// prints it): the engine accepts only that certificate. Without one it trusts the first
// certificate it sees at that host and port and keeps its fingerprint in the profile (trust
// on first use), as SSH does. Either way a different certificate later is refused, for good,
// with a message that says so. Plain `ws://` is for loopback only, unless the user says
// --insecure: anything else would show the traffic to everyone on the path.
import { createHash } from 'node:crypto';
import type { TLSSocket } from 'node:tls';
import { isLoopbackHost } from '../shared/loopback.ts';
import { MessengerError } from './errors.ts';
import type { Db } from './store/database.ts';
import { transact } from '../node/transactions.ts';

/** A relay URL, checked and taken apart. */
export interface RelayTarget {
  /** The URL to connect to: the given one without its fragment. */
  connectUrl: string;
  tls: boolean;
  /** `host:port`, what a trusted-on-first-use fingerprint is kept under. */
  hostPort: string;
  /** The fingerprint the URL pins (lowercase hex), or null. */
  pin: string | null;
}

/** The fingerprints first seen at each relay (`host:port`). */
export interface PinStore {
  get(hostPort: string): string | undefined;
  set(hostPort: string, fingerprint: string): void;
}

const PIN = /^#sha256=([0-9a-fA-F:]+)$/;

/**
 * `url` as a relay to connect to; throws MessengerError for anything else, and for plain
 * ws:// to a host other than this machine without `insecure`.
 */
export function relayTarget(url: string, insecure: boolean): RelayTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new MessengerError(`"${url}" is not a relay URL (ws://HOST:PORT/ or wss://HOST:PORT/)`);
  }
  if (u.protocol !== 'ws:' && u.protocol !== 'wss:')
    throw new MessengerError(`a relay URL starts with wss:// or ws://, not ${u.protocol}//`);
  const tls = u.protocol === 'wss:';
  let pin: string | null = null;
  if (u.hash !== '') {
    const m = PIN.exec(u.hash);
    const hex = m?.[1]!.replace(/:/g, '').toLowerCase();
    if (!tls || hex === undefined || !/^[0-9a-f]{64}$/.test(hex))
      throw new MessengerError(
        `the relay URL's fragment must be #sha256= and the 64 hex digits of the relay's ` +
          `certificate fingerprint, on a wss:// URL (not "${u.hash}")`,
      );
    pin = hex;
  }
  if (!tls && !insecure && !isLoopbackHost(u.hostname))
    throw new MessengerError(
      `${url} is plain ws://: anyone on the network between here and ${u.hostname} could read ` +
        `and change everything sent. Use the relay's wss:// URL (it prints it at start), or ` +
        `--insecure to connect unencrypted anyway`,
    );
  const port = u.port || (tls ? '443' : '80');
  u.hash = '';
  return { connectUrl: u.href, tls, hostPort: `${u.hostname}:${port}`, pin };
}

/** The SHA-256 of the certificate `socket`'s peer presented, or null if it presented none. */
export function peerFingerprint(socket: TLSSocket): string | null {
  const raw = socket.getPeerCertificate?.()?.raw;
  return raw ? createHash('sha256').update(raw).digest('hex') : null;
}

export type PeerVerdict = { ok: true; fingerprint: string } | { ok: false; reason: string };

/**
 * Whether the relay behind `socket` is the one `target` means: its certificate's fingerprint
 * is the URL's pin, or the one first seen at its address (remembered now if this is the
 * first time). A URL's pin that is accepted becomes the remembered one.
 */
export function checkRelayCertificate(
  target: RelayTarget,
  pins: PinStore | null,
  socket: TLSSocket,
): PeerVerdict {
  const got = peerFingerprint(socket);
  if (got === null) return { ok: false, reason: 'the relay presented no TLS certificate' };
  const expected = target.pin ?? pins?.get(target.hostPort) ?? null;
  if (expected !== null && expected !== got) {
    const how = target.pin
      ? 'pinned by the relay URL'
      : `first seen at ${target.hostPort} and kept in this profile`;
    return {
      ok: false,
      reason:
        `the relay's certificate changed: expected sha256 ${expected} (${how}), got ${got}. ` +
        `Someone may be impersonating the relay; if its operator replaced the certificate, ` +
        `use the new URL the relay prints (wss://.../#sha256=...)`,
    };
  }
  if (pins !== null && pins.get(target.hostPort) !== got) pins.set(target.hostPort, got);
  return { ok: true, fingerprint: got };
}

/** The meta row that holds a profile's fingerprints, as JSON `{ "host:port": "hex" }`. */
const PINS_KEY = 'relay_pins';

/** The profile's remembered relay fingerprints. */
export function profilePins(db: Db): PinStore {
  const read = (): Record<string, string> => {
    const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(PINS_KEY) as
      { value: string } | undefined;
    return row ? (JSON.parse(row.value) as Record<string, string>) : {};
  };
  return {
    get: (hostPort) => {
      const pins = read();
      return Object.hasOwn(pins, hostPort) ? pins[hostPort] : undefined;
    },
    set: (hostPort, fingerprint) => {
      transact(db, () => {
        const pins = read();
        pins[hostPort] = fingerprint;
        db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)').run(
          PINS_KEY,
          JSON.stringify(pins),
        );
      });
    },
  };
}
