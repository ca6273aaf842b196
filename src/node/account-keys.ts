// The cryptography of accounts, shared by the app and the relay: key pairs from libsignal
// (Curve25519 identity keys with XEdDSA signatures, the key type the Signal protocol of the
// end-to-end encryption issue uses), hello and device-list signatures, the one-time link
// code, the recovery code, and the sealed box that carries an account's identity key to a
// newly linked device. docs/security.md explains each choice.
import { IdentityKeyPair, PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import {
  createCipheriv,
  createDecipheriv,
  createHmac,
  hkdfSync,
  randomBytes,
  randomInt,
  timingSafeEqual,
} from 'node:crypto';
import { LINK_CODE_ID_BYTES, PUBLIC_KEY_BYTES } from '../shared/protocol/account.ts';

/** libsignal's types ask for ArrayBuffer-backed arrays; it only reads the bytes. */
const bytes = (b: Uint8Array): Uint8Array<ArrayBuffer> => b as Uint8Array<ArrayBuffer>;

/** A device's or an account's key pair. */
export class KeyPair {
  private readonly pair: IdentityKeyPair;

  private constructor(pair: IdentityKeyPair) {
    this.pair = pair;
  }

  static generate(): KeyPair {
    return new KeyPair(IdentityKeyPair.generate());
  }

  /** From serialize()'s bytes; throws on anything else. */
  static deserialize(data: Uint8Array): KeyPair {
    return new KeyPair(IdentityKeyPair.deserialize(bytes(data)));
  }

  /** The same pair every time for the same 32 secret bytes (the recovery key). */
  static fromSeed(seed: Uint8Array): KeyPair {
    const privateKey = PrivateKey.deserialize(bytes(seed));
    return new KeyPair(new IdentityKeyPair(privateKey.getPublicKey(), privateKey));
  }

  get publicKey(): Uint8Array {
    return this.pair.publicKey.serialize();
  }

  serialize(): Uint8Array {
    return this.pair.serialize();
  }

  sign(message: Uint8Array): Uint8Array {
    return this.pair.privateKey.sign(bytes(message));
  }

  /** A shared secret with another key (X25519). */
  agree(publicKey: Uint8Array): Uint8Array {
    return this.pair.privateKey.agree(PublicKey.deserialize(bytes(publicKey)));
  }
}

/** Whether `signature` is `publicKey`'s over `message`; false for a malformed key. */
export function verifySignature(
  publicKey: Uint8Array,
  message: Uint8Array,
  signature: Uint8Array,
): boolean {
  if (publicKey.length !== PUBLIC_KEY_BYTES) return false;
  try {
    return PublicKey.deserialize(bytes(publicKey)).verify(bytes(message), bytes(signature));
  } catch {
    return false;
  }
}

/** Whether `bytes` is a public key libsignal accepts. */
export function isPublicKey(key: Uint8Array): boolean {
  if (key.length !== PUBLIC_KEY_BYTES) return false;
  try {
    PublicKey.deserialize(bytes(key));
    return true;
  } catch {
    return false;
  }
}

/** A short, stable, readable form of a public key, for people to compare. */
export function keyFingerprint(publicKey: Uint8Array): string {
  const hex = Buffer.from(hkdf(publicKey, 'strata-fingerprint-1', 10)).toString('hex');
  return hex.match(/.{4}/g)!.join(' ');
}

// ---------------------------------------------------------------------------------------
// Device lists

const DEVICE_LIST_CONTEXT = Buffer.from('strata-devices-1\0');

export function signDeviceList(identity: KeyPair, list: Uint8Array): Uint8Array {
  return identity.sign(Buffer.concat([DEVICE_LIST_CONTEXT, list]));
}

export function verifyDeviceList(
  identityKey: Uint8Array,
  list: Uint8Array,
  signature: Uint8Array,
): boolean {
  return verifySignature(identityKey, Buffer.concat([DEVICE_LIST_CONTEXT, list]), signature);
}

// ---------------------------------------------------------------------------------------
// Codes people type: Crockford's base32 (no I, L, O, U), read back case-insensitively with
// the look-alikes folded.

const ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

function randomCode(chars: number): string {
  let s = '';
  for (let i = 0; i < chars; i++) s += ALPHABET[randomInt(32)];
  return s;
}

function group(code: string, size: number): string {
  return code.match(new RegExp(`.{1,${size}}`, 'g'))!.join('-');
}

/** The code's characters, upper case, separators dropped, look-alikes folded; null if not a code. */
function normalizeCode(input: string, chars: number): string | null {
  const s = input.toUpperCase().replace(/[\s-]/g, '').replace(/O/g, '0').replace(/[IL]/g, '1');
  if (s.length !== chars) return null;
  for (const c of s) if (!ALPHABET.includes(c)) return null;
  return s;
}

/** A link code: 10 characters (50 bits), typed in a minute, good for ten minutes, once. */
export const LINK_CODE_CHARS = 10;
/** A recovery code: 24 characters (120 bits), kept on paper. */
export const RECOVERY_CODE_CHARS = 24;

export function newLinkCode(): string {
  return group(randomCode(LINK_CODE_CHARS), 5);
}

export function normalizeLinkCode(input: string): string | null {
  return normalizeCode(input, LINK_CODE_CHARS);
}

export function newRecoveryCode(): string {
  return group(randomCode(RECOVERY_CODE_CHARS), 4);
}

export function normalizeRecoveryCode(input: string): string | null {
  return normalizeCode(input, RECOVERY_CODE_CHARS);
}

function hkdf(secret: Uint8Array | string, info: string, length: number, salt = ''): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, salt, info, length));
}

/** What the relay knows of a link code: an id derived from it, from which it cannot be read back. */
export function linkCodeId(code: string): Uint8Array {
  return hkdf(normalizeLinkCode(code) ?? code, 'strata-link-id-1', LINK_CODE_ID_BYTES);
}

/**
 * The new device's proof that it was given the code: an HMAC of its key and name under a
 * key derived from the code, which the offering device checks (the relay cannot make one).
 */
export function linkMac(code: string, deviceKey: Uint8Array, name: string): Uint8Array {
  const key = hkdf(normalizeLinkCode(code) ?? code, 'strata-link-mac-1', 32);
  return new Uint8Array(
    createHmac('sha256', key).update(deviceKey).update(Buffer.from(name, 'utf8')).digest(),
  );
}

export function checkLinkMac(
  code: string,
  deviceKey: Uint8Array,
  name: string,
  mac: Uint8Array,
): boolean {
  const expected = linkMac(code, deviceKey, name);
  return mac.length === expected.length && timingSafeEqual(mac, expected);
}

/** The key pair a recovery code stands for; the relay keeps only its public half. */
export function recoveryKeyPair(user: string, code: string): KeyPair {
  const normalized = normalizeRecoveryCode(code);
  if (!normalized) throw new Error('not a recovery code');
  return KeyPair.fromSeed(hkdf(normalized, 'strata-recovery-1', 32, `strata:${user}`));
}

// ---------------------------------------------------------------------------------------
// The provision: what a linked device receives from the device that let it in (the account's
// name and identity key pair), sealed to the new device's key and to the link code, so that
// neither the relay nor anyone without both can open it.

export interface Provision {
  user: string;
  identity: Uint8Array;
}

const IV_BYTES = 12;
const TAG_BYTES = 16;

function provisionKey(shared: Uint8Array, code: string): Buffer {
  return Buffer.from(hkdf(shared, 'strata-provision-1', 32, normalizeLinkCode(code) ?? code));
}

export function sealProvision(code: string, newDeviceKey: Uint8Array, p: Provision): Uint8Array {
  const ephemeral = KeyPair.generate();
  const key = provisionKey(ephemeral.agree(newDeviceKey), code);
  const iv = randomBytes(IV_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(ephemeral.publicKey);
  const plain = Buffer.from(
    JSON.stringify({ user: p.user, identity: Buffer.from(p.identity).toString('base64') }),
  );
  const sealed = Buffer.concat([cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
  return new Uint8Array(Buffer.concat([ephemeral.publicKey, iv, sealed]));
}

/** Opens a sealed provision; null when it was not sealed for this device and code. */
export function openProvision(code: string, device: KeyPair, sealed: Uint8Array): Provision | null {
  if (sealed.length < PUBLIC_KEY_BYTES + IV_BYTES + TAG_BYTES) return null;
  const ephemeral = sealed.subarray(0, PUBLIC_KEY_BYTES);
  const iv = sealed.subarray(PUBLIC_KEY_BYTES, PUBLIC_KEY_BYTES + IV_BYTES);
  const body = sealed.subarray(PUBLIC_KEY_BYTES + IV_BYTES, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  try {
    const key = provisionKey(device.agree(ephemeral), code);
    const decipher = createDecipheriv('aes-256-gcm', key, iv);
    decipher.setAAD(ephemeral);
    decipher.setAuthTag(tag);
    const plain = Buffer.concat([decipher.update(body), decipher.final()]).toString('utf8');
    const v = JSON.parse(plain) as { user?: unknown; identity?: unknown };
    if (typeof v.user !== 'string' || typeof v.identity !== 'string') return null;
    return { user: v.user, identity: new Uint8Array(Buffer.from(v.identity, 'base64')) };
  } catch {
    return null;
  }
}
