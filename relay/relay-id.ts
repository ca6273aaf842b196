// The relay's identity: 32 bytes every hello signs (src/shared/protocol/account.ts,
// helloTranscript), so that a signature made for one relay is worth nothing at another. Over
// TLS it is the SHA-256 of the relay's certificate (the TLS setup passes that to the Relay,
// RelayDeps.relayId); otherwise the SHA-256 of a random secret kept in the data folder, so
// that it survives restarts: `relay-id`, created 0600 on first start.
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { RELAY_ID_BYTES } from '../src/shared/protocol/index.ts';

const SECRET_BYTES = 32;

/** The relay id of the data folder `dataDir` (null: a random id for this process only). */
export function relayIdentity(dataDir: string | null): Uint8Array {
  if (dataDir === null) return sha256(randomBytes(SECRET_BYTES));
  const file = join(dataDir, 'relay-id');
  let secret: Buffer;
  try {
    secret = readFileSync(file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    secret = randomBytes(SECRET_BYTES);
    // 'wx': two relays starting on one folder at once must not both write it.
    writeFileSync(file, secret, { mode: 0o600, flag: 'wx' });
  }
  if (secret.length !== SECRET_BYTES)
    throw new Error(`${file} is damaged (not ${SECRET_BYTES} bytes)`);
  chmodSync(file, 0o600);
  return sha256(secret);
}

function sha256(bytes: Uint8Array): Uint8Array {
  const id = new Uint8Array(createHash('sha256').update(bytes).digest());
  if (id.length !== RELAY_ID_BYTES) throw new Error('relay id length');
  return id;
}
