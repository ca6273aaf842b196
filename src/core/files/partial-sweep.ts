// Partial files that no transfer will finish are deleted at start: a `.part` file no
// incoming file in flight owns (left by a crash between a refusal or failure and its
// deletion, or by a transfer whose rows were deleted), and the partial file of a transfer
// that has gained nothing for PARTIAL_EXPIRY_MS (its sender gone for good): that transfer
// expires, and its sender hears it was refused.
import { readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Db } from '../store/database.ts';
import type { MessageKey } from '../transport/context.ts';

/** How long an incoming file may gain nothing before it expires. */
export const PARTIAL_EXPIRY_DAYS = 30;
export const PARTIAL_EXPIRY_MS = PARTIAL_EXPIRY_DAYS * 24 * 60 * 60 * 1000;

export interface Sweep {
  /** `.part` files deleted because nothing owned them. */
  orphans: string[];
  /** Transfers that expired: the caller fails them and deletes their partial files. */
  expired: (MessageKey & { path: string })[];
}

export function sweepPartials(db: Db, dir: string, now: number, maxIdleMs = PARTIAL_EXPIRY_MS) {
  const live = db
    .prepare(
      `SELECT author, author_device AS authorDevice, id, path, state, held FROM files
       WHERE state IN ('receiving', 'verifying')`,
    )
    .all() as (MessageKey & { path: string; state: string; held: string | null })[];
  const owned = new Set(live.map((f) => f.path));
  const sweep: Sweep = { orphans: [], expired: [] };
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return sweep;
  }
  for (const name of names) {
    const path = join(dir, name);
    if (!name.endsWith('.part') || owned.has(path)) continue;
    rmSync(path, { force: true });
    sweep.orphans.push(path);
  }
  for (const f of live) {
    if (f.state !== 'receiving' || f.held !== null) continue;
    let mtimeMs: number;
    try {
      mtimeMs = statSync(f.path).mtimeMs;
    } catch {
      continue; // nothing written yet: nothing on disk to expire
    }
    if (now - mtimeMs > maxIdleMs) {
      sweep.expired.push({
        author: f.author,
        authorDevice: f.authorDevice,
        id: f.id,
        path: f.path,
      });
    }
  }
  return sweep;
}
