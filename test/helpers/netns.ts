// A small LAN made of Linux network namespaces, for tests that need a real network path
// (real TCP, real retransmission back-off) and faults the endpoints cannot see:
//
//   relay 10.47.0.1 ─┐
//   alice 10.47.0.2 ─┼─ br0 (in a switch namespace of its own)
//   bob   10.47.0.3 ─┘
//
// Each host is a namespace with one veth (eth0) whose other end is a port of the bridge.
// cut() takes a host's port off the bridge: both ends keep their carrier, nothing is
// refused or reset, packets simply go nowhere, as when a link dies somewhere in between.
// Nothing is created in the caller's namespace, so a run never touches the machine's own
// network, and destroy() (or the exit hook) removes every namespace this process made.
// Requires root and iproute2; without them create() throws, so the tests fail loudly.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export type HostName = 'relay' | 'alice' | 'bob';

export interface Host {
  name: HostName;
  /** The host's namespace. */
  ns: string;
  address: string;
  /** Prefix of a command that runs inside the host: `[...launcher, node, script]`. */
  launcher: string[];
}

const ADDRESSES: Record<HostName, string> = {
  relay: '10.47.0.1',
  alice: '10.47.0.2',
  bob: '10.47.0.3',
};
const PREFIX = 'strata-t';

let sequence = 0;
/** Namespaces made by this process and not yet removed, for the exit hook. */
const live = new Set<string>();
let hooked = false;

function ip(...args: string[]): string {
  try {
    return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`ip ${args.join(' ')} failed: ${(err.stderr || err.message).trim()}`, {
      cause: e,
    });
  }
}

/** Removes namespaces this harness left behind in runs whose process no longer exists. */
function removeOrphans(): void {
  for (const line of ip('netns', 'list').split('\n')) {
    const name = line.split(' ')[0] ?? '';
    const m = new RegExp(`^${PREFIX}-(\\d+)-`).exec(name);
    if (m && !existsSync(`/proc/${m[1]}`)) deleteNs(name);
  }
}

function deleteNs(ns: string): void {
  try {
    ip('netns', 'del', ns);
  } catch {
    // Already gone.
  }
  live.delete(ns);
}

export class Lan {
  readonly switchNs: string;
  readonly relay: Host;
  readonly alice: Host;
  readonly bob: Host;

  private constructor(id: string) {
    this.switchNs = `${id}-switch`;
    const host = (name: HostName): Host => {
      const ns = `${id}-${name}`;
      return { name, ns, address: ADDRESSES[name], launcher: ['ip', 'netns', 'exec', ns] };
    };
    this.relay = host('relay');
    this.alice = host('alice');
    this.bob = host('bob');
  }

  /** Builds the LAN; throws (with ip's own message) where namespaces are not available. */
  static create(): Lan {
    if (!hooked) {
      hooked = true;
      // A test runner that exits without running afterAll must not leave namespaces behind.
      process.once('exit', () => {
        for (const ns of [...live]) deleteNs(ns);
      });
    }
    removeOrphans();
    const lan = new Lan(`${PREFIX}-${process.pid}-${++sequence}`);
    try {
      ip('netns', 'add', lan.switchNs);
      live.add(lan.switchNs);
      ip('-n', lan.switchNs, 'link', 'add', 'br0', 'type', 'bridge');
      ip('-n', lan.switchNs, 'link', 'set', 'br0', 'up');
      for (const h of [lan.relay, lan.alice, lan.bob]) lan.plugIn(h);
    } catch (e) {
      lan.destroy();
      throw e;
    }
    return lan;
  }

  /** Makes the host's namespace and wires it to the bridge. */
  private plugIn(h: Host): void {
    ip('netns', 'add', h.ns);
    live.add(h.ns);
    ip('-n', h.ns, 'link', 'set', 'lo', 'up');
    // The switch's port is named after the host; the host sees its end as eth0.
    ip(
      '-n',
      this.switchNs,
      'link',
      'add',
      h.name,
      'type',
      'veth',
      'peer',
      'name',
      'eth0',
      'netns',
      h.ns,
    );
    ip('-n', this.switchNs, 'link', 'set', h.name, 'master', 'br0');
    ip('-n', this.switchNs, 'link', 'set', h.name, 'up');
    // A fixed MAC, as a real host keeps across a reboot: the others' ARP caches stay right.
    const mac = `02:00:${h.address
      .split('.')
      .map((b) => Number(b).toString(16).padStart(2, '0'))
      .join(':')}`;
    ip('-n', h.ns, 'link', 'set', 'eth0', 'address', mac);
    ip('-n', h.ns, 'addr', 'add', `${h.address}/24`, 'dev', 'eth0');
    ip('-n', h.ns, 'link', 'set', 'eth0', 'up');
  }

  /** Silently cuts the host off: its port leaves the bridge, and its frames go nowhere. */
  cut(h: Host): void {
    ip('-n', this.switchNs, 'link', 'set', h.name, 'nomaster');
  }

  /** Puts the host's port back on the bridge. */
  heal(h: Host): void {
    ip('-n', this.switchNs, 'link', 'set', h.name, 'master', 'br0');
  }

  /**
   * The host loses power and comes back: its namespace, and with it every socket its kernel
   * still kept (a closed connection's FIN still being retransmitted), is gone. Stop the
   * host's processes first; the new host has the same address and the same port on the
   * bridge (cut if it was).
   */
  reboot(h: Host): void {
    const wasCut = !ip('-n', this.switchNs, 'link', 'show', h.name).includes('master br0');
    // Deleting one end of the veth deletes both, at once (a namespace's devices go later).
    ip('-n', this.switchNs, 'link', 'del', h.name);
    deleteNs(h.ns);
    this.plugIn(h);
    if (wasCut) this.cut(h);
  }

  /** Removes every namespace of this LAN (the processes in them must have exited). */
  destroy(): void {
    for (const ns of [this.relay.ns, this.alice.ns, this.bob.ns, this.switchNs]) {
      if (live.has(ns)) deleteNs(ns);
    }
  }
}
