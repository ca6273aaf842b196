// The relay's self-signed TLS certificate: an ECDSA P-256 key and a v3 X.509 certificate
// signed with it (SHA-256), written as PEM files in the data folder and reused on later
// starts, so that the fingerprint clients pinned stays the same. The certificate is built
// here with a minimal DER encoder (RFC 5280, only what this one certificate needs) and
// node:crypto for the key and the signature: no dependency for forty lines of ASN.1.
import { createHash, generateKeyPairSync, randomBytes, sign, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';

/** The files of the generated certificate, in the relay's data folder. */
export const SELF_SIGNED_CERT = 'tls-cert.pem';
export const SELF_SIGNED_KEY = 'tls-key.pem';

/** How long a generated certificate is valid (clients pin it; nothing renews it). */
const VALID_DAYS = 3650;
/** notBefore lies this far in the past, for clients whose clock is behind. */
const BACKDATE_MS = 24 * 3600 * 1000;

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
} as const;

// --- DER (X.690), the few types a certificate uses -----------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.of(n);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.of(tag), length(content.length), content]);
}

const sequence = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const octetString = (b: Buffer) => tlv(0x04, b);
const utf8String = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const boolean = (v: boolean) => tlv(0x01, Buffer.of(v ? 0xff : 0));
/** `[n] EXPLICIT`: a constructed context-specific tag around `content`. */
const explicit = (n: number, content: Buffer) => tlv(0xa0 | n, content);
/** A BIT STRING of whole bytes (no unused bits). */
const bitString = (b: Buffer) => tlv(0x03, Buffer.concat([Buffer.of(0), b]));

/** A non-negative INTEGER from its big-endian magnitude. */
function unsignedInteger(magnitude: Buffer): Buffer {
  let start = 0;
  while (start < magnitude.length - 1 && magnitude[start] === 0) start++;
  const trimmed = magnitude.subarray(start);
  return tlv(0x02, trimmed[0]! & 0x80 ? Buffer.concat([Buffer.of(0), trimmed]) : trimmed);
}

function objectId(dotted: string): Buffer {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const out = [40 * a + b];
  for (const arc of rest) {
    const groups = [arc & 0x7f];
    for (let v = Math.floor(arc / 128); v > 0; v = Math.floor(v / 128))
      groups.unshift((v & 0x7f) | 0x80);
    out.push(...groups);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime up to 2049, GeneralizedTime from 2050 (RFC 5280, 4.1.2.5). */
function time(date: Date): Buffer {
  const iso = date.toISOString(); // 2026-12-03T15:18:41.123Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, '') + 'Z'; // 20261203151841Z
  const year = date.getUTCFullYear();
  return year < 2050
    ? tlv(0x17, Buffer.from(digits.slice(2), 'ascii'))
    : tlv(0x18, Buffer.from(digits, 'ascii'));
}

/** IPv4 or IPv6 text as its 4 or 16 bytes (for an iPAddress name). */
function ipBytes(ip: string): Buffer {
  if (isIP(ip) === 4) return Buffer.from(ip.split('.').map(Number));
  const [head, tail = ''] = ip.includes('::') ? ip.split('::') : [ip, undefined];
  const words = (s: string | undefined) => (s ? s.split(':').map((w) => parseInt(w, 16)) : []);
  const h = words(head);
  const t = words(tail);
  const all =
    tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

// --- The certificate ------------------------------------------------------------------------

export interface SelfSignedOptions {
  /** The subject's common name. */
  commonName: string;
  /** DNS names and IP addresses for the subjectAltName extension. */
  names: string[];
  now?: Date;
}

export interface CertificatePair {
  /** PEM of the certificate and of its private key (PKCS#8). */
  cert: string;
  key: string;
}

/** A new ECDSA P-256 key and a v3 certificate for it, signed by itself with SHA-256. */
export function createSelfSigned(options: SelfSignedOptions): CertificatePair {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const now = options.now ?? new Date();
  const name = sequence(set(sequence(objectId(OID.commonName), utf8String(options.commonName))));
  const algorithm = sequence(objectId(OID.ecdsaWithSha256));
  const serial = randomBytes(16);
  // Positive, 16 octets whatever the random bytes, at most 20 (RFC 5280, 4.1.2.2).
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const altNames = options.names.map((n) =>
    isIP(n) ? tlv(0x87, ipBytes(n)) : tlv(0x82, Buffer.from(n, 'ascii')),
  );
  const extensions = [
    sequence(objectId(OID.basicConstraints), boolean(true), octetString(sequence())),
  ];
  if (altNames.length > 0)
    extensions.push(sequence(objectId(OID.subjectAltName), octetString(sequence(...altNames))));
  const tbs = sequence(
    explicit(0, unsignedInteger(Buffer.of(2))), // v3
    unsignedInteger(serial),
    algorithm,
    name,
    sequence(
      time(new Date(now.getTime() - BACKDATE_MS)),
      time(new Date(now.getTime() + VALID_DAYS * 24 * 3600 * 1000)),
    ),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...extensions)),
  );
  const signature = sign('sha256', tbs, { key: privateKey, dsaEncoding: 'der' });
  const der = sequence(tbs, algorithm, bitString(signature));
  return {
    cert: pem('CERTIFICATE', der),
    key: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

/** The SHA-256 of a certificate's DER, in lowercase hex without colons: what clients pin. */
export function certificateFingerprint(certPem: string): string {
  return createHash('sha256').update(new X509Certificate(certPem).raw).digest('hex');
}

/**
 * The self-signed certificate in `dataDir`: the one made on an earlier start, or a new one
 * (its files readable by the owner only). `created` says which.
 */
export function loadOrCreateSelfSigned(
  dataDir: string,
  names: string[],
): CertificatePair & { created: boolean } {
  const certFile = join(dataDir, SELF_SIGNED_CERT);
  const keyFile = join(dataDir, SELF_SIGNED_KEY);
  if (existsSync(certFile) && existsSync(keyFile)) {
    return {
      cert: readFileSync(certFile, 'utf8'),
      key: readFileSync(keyFile, 'utf8'),
      created: false,
    };
  }
  const pair = createSelfSigned({ commonName: 'Strata relay', names });
  // The key first, so that a certificate on disk always has its key beside it.
  writeFileSync(keyFile, pair.key, { mode: 0o600 });
  chmodSync(keyFile, 0o600);
  writeFileSync(certFile, pair.cert, { mode: 0o600 });
  chmodSync(certFile, 0o600);
  return { ...pair, created: true };
}

/** The certificate the relay serves, and what clients pin. */
export interface RelayTls extends CertificatePair {
  /** certificateFingerprint() of `cert`. */
  fingerprint: string;
  /** Made by the relay itself (else given by --tls-cert), and whether on this start. */
  selfSigned: boolean;
  created: boolean;
}

/** The TLS files cannot be used: unreadable, not PEM, or a key that is not the cert's. */
export class TlsSetupError extends Error {
  override name = 'TlsSetupError';
}

/**
 * The relay's certificate: the files of --tls-cert and --tls-key, or the self-signed one
 * in `dataDir` (made now if there is none yet), checked to be a usable pair.
 */
export function relayTls(o: {
  tlsCert: string | null;
  tlsKey: string | null;
  dataDir: string;
}): RelayTls {
  let pair: CertificatePair & { created: boolean };
  const selfSigned = o.tlsCert === null || o.tlsKey === null;
  if (selfSigned) {
    pair = loadOrCreateSelfSigned(o.dataDir, machineNames());
  } else {
    const read = (file: string, what: string) => {
      try {
        return readFileSync(file, 'utf8');
      } catch (e) {
        throw new TlsSetupError(`cannot read the TLS ${what} ${file}: ${(e as Error).message}`);
      }
    };
    pair = { cert: read(o.tlsCert!, 'certificate'), key: read(o.tlsKey!, 'key'), created: false };
  }
  let fingerprint: string;
  try {
    fingerprint = certificateFingerprint(pair.cert);
    createSecureContext({ cert: pair.cert, key: pair.key });
  } catch (e) {
    const where = selfSigned ? `in ${o.dataDir}` : `${o.tlsCert} with ${o.tlsKey}`;
    throw new TlsSetupError(`the TLS certificate ${where} cannot be used: ${(e as Error).message}`);
  }
  return { ...pair, fingerprint, selfSigned };
}

/** The names this machine goes by now, for a new certificate's subjectAltName. */
function machineNames(): string[] {
  const names = new Set(['localhost', '127.0.0.1', '::1']);
  if (/^[a-zA-Z0-9.-]+$/.test(hostname())) names.add(hostname());
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (!a.internal) names.add(a.address.replace(/%.*$/, ''));
  }
  return [...names];
}
