import { generate } from 'selfsigned';
import type { PemPair } from './certificate-store.js';

/**
 * A self-signed certificate served when the config names no default, so the
 * HTTPS port can start before any certificate is configured (clients will
 * not trust it, by design).
 */
export async function generateDefaultCertificate(): Promise<PemPair> {
  const pems = await generate([{ name: 'commonName', value: 'Portcullis default certificate' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notAfterDate: new Date(Date.now() + 365 * 24 * 3600 * 1000),
  });
  return { cert: pems.cert, key: pems.private };
}
