import { X509Certificate, createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect, createServer } from 'node:tls';
import { describe, expect, it } from 'vitest';
import {
  SELF_SIGNED_CERT,
  SELF_SIGNED_KEY,
  certificateFingerprint,
  createSelfSigned,
  loadOrCreateSelfSigned,
} from './tls-cert.ts';

describe('the self-signed certificate', () => {
  const now = new Date('2026-12-03T12:00:00Z');
  const pair = createSelfSigned({
    commonName: 'Strata relay',
    names: ['localhost', 'relay.lan', '127.0.0.1', '192.168.1.20', '::1', 'fe80::1:2'],
    now,
  });
  const x509 = new X509Certificate(pair.cert);

  it('parses as a v3 certificate signed by its own key (ECDSA P-256, SHA-256)', () => {
    expect(x509.subject).toBe('CN=Strata relay');
    expect(x509.issuer).toBe('CN=Strata relay');
    expect(x509.verify(x509.publicKey)).toBe(true);
    expect(x509.publicKey.asymmetricKeyDetails).toEqual({ namedCurve: 'prime256v1' });
    expect(x509.ca).toBe(false);
    expect(x509.checkIssued(x509)).toBe(true);
    expect(x509.serialNumber).toMatch(/^[0-9A-F]{32}$/);
  });

  it('is valid from a day before its creation for ten years', () => {
    expect(new Date(x509.validFrom).toISOString()).toBe('2026-12-02T12:00:00.000Z');
    expect(new Date(x509.validTo).toISOString()).toBe('2036-11-30T12:00:00.000Z');
  });

  it('names its DNS names and addresses, IPv4 and IPv6, in subjectAltName', () => {
    expect(x509.subjectAltName).toBe(
      'DNS:localhost, DNS:relay.lan, IP Address:127.0.0.1, IP Address:192.168.1.20, ' +
        'IP Address:0:0:0:0:0:0:0:1, IP Address:FE80:0:0:0:0:0:1:2',
    );
    expect(x509.checkIP('192.168.1.20')).toBe('192.168.1.20');
    expect(x509.checkHost('relay.lan')).toBe('relay.lan');
  });

  it('writes dates from 2050 on as GeneralizedTime', () => {
    const late = new X509Certificate(
      createSelfSigned({ commonName: 'x', names: [], now: new Date('2049-06-01T00:00:00Z') }).cert,
    );
    expect(new Date(late.validTo).toISOString()).toBe('2059-05-30T00:00:00.000Z');
    expect(late.verify(late.publicKey)).toBe(true);
  });

  it('has the fingerprint of its DER: SHA-256, lowercase hex without colons', () => {
    const fp = certificateFingerprint(pair.cert);
    expect(fp).toMatch(/^[0-9a-f]{64}$/);
    expect(fp).toBe(createHash('sha256').update(x509.raw).digest('hex'));
    expect(fp).toBe(x509.fingerprint256.replace(/:/g, '').toLowerCase());
  });

  it('carries a real TLS handshake, where the client sees the same fingerprint', async () => {
    const server = createServer({ cert: pair.cert, key: pair.key }, (socket) => socket.end('hi'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = server.address() as AddressInfo;
      const seen = await new Promise<{ fp: string; text: string; protocol: string | null }>(
        (resolve, reject) => {
          const socket = connect({ port, host: '127.0.0.1', rejectUnauthorized: false }, () => {
            const raw = socket.getPeerCertificate().raw;
            let text = '';
            socket.setEncoding('utf8').on('data', (d: string) => (text += d));
            socket.on('end', () =>
              resolve({
                fp: createHash('sha256').update(raw).digest('hex'),
                text,
                protocol: socket.getProtocol(),
              }),
            );
          });
          socket.on('error', reject);
        },
      );
      expect(seen).toEqual({
        fp: certificateFingerprint(pair.cert),
        text: 'hi',
        protocol: 'TLSv1.3',
      });
      // And it is refused by a client that checks the chain (no CA signed it).
      const refused = await new Promise<string>((resolve) => {
        const socket = connect({ port, host: '127.0.0.1', servername: 'localhost' });
        socket.on('error', (e: NodeJS.ErrnoException) => resolve(e.code ?? ''));
        socket.on('secureConnect', () => resolve('accepted'));
      });
      expect(refused).toBe('DEPTH_ZERO_SELF_SIGNED_CERT');
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe('the certificate in the data folder', () => {
  it('is made once, owner-only, and the same one is read on later starts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'strata-cert-'));
    const first = loadOrCreateSelfSigned(dir, ['localhost']);
    expect(first.created).toBe(true);
    for (const f of [SELF_SIGNED_CERT, SELF_SIGNED_KEY])
      expect(statSync(join(dir, f)).mode & 0o777).toBe(0o600);
    expect(readFileSync(join(dir, SELF_SIGNED_CERT), 'utf8')).toBe(first.cert);
    const again = loadOrCreateSelfSigned(dir, ['localhost']);
    expect(again.created).toBe(false);
    expect(certificateFingerprint(again.cert)).toBe(certificateFingerprint(first.cert));
    expect(again.key).toBe(first.key);
  });
});
