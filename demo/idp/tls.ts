/**
 * Self-signed certificate for `tls: true`. The certificate is its own CA
 * (basicConstraints cA) with SANs 127.0.0.1 and localhost, so a test can
 * trust exactly it — `ca` for in-process clients, NODE_EXTRA_CA_CERTS (a file
 * holding `caPem`) for a spawned proxy — instead of disabling verification.
 */
import { generate } from 'selfsigned';

export interface TlsMaterial {
  certPem: string;
  keyPem: string;
}

export async function selfSignedCertificate(): Promise<TlsMaterial> {
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 24 * 3600_000);
  const pems = await generate([{ name: 'commonName', value: 'portcullis-test-idp' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true },
      { name: 'keyUsage', digitalSignature: true, keyCertSign: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return { certPem: pems.cert, keyPem: pems.private };
}
